{
  "targets": [
    {
      "target_name": "lacuna_scanner",
      "sources": [
        "native/scanner/addon.cc",
        "native/scanner/scan_worker.cc",
        "native/scanner/scanner.cc",
        "native/scanner/pattern_facts.cc",
        "native/scanner/prefilter.cc",
        "native/scanner/triggered_scan.cc",
        "native/scanner/validators.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "<!@(pkg-config --cflags re2)"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "libraries": ["<!@(pkg-config --libs re2)"]
    },
    {
      "target_name": "lacuna_audit",
      "sources": [
        "native/audit/record_lines.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"]
    },
    {
      "target_name": "lacuna_fuse",
      "sources": [
        "native/fuse/addon.cc",
        "native/fuse/passthrough.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "FUSE_USE_VERSION=29", "_FILE_OFFSET_BITS=64"],
      "cflags_cc": ["-std=c++17", "-O2", "<!@(pkg-config --cflags fuse)"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "libraries": ["<!@(pkg-config --libs fuse)"]
    }
  ]
}
