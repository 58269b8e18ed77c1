// Which conformance folders matter for governance policies (the ≥95 % target)
// and which folders are skipped on purpose, with the reason shown in the report.

export const GOVERNANCE_FOLDERS: string[] = [
  'aggregates', 'arithmetic', 'array', 'baseandvirtualdocs', 'comparisonexpr', 'completedoc', 'comprehensions',
  'containskeyword', 'defaultkeyword', 'disjunction', 'elsekeyword', 'eqexpr', 'every', 'functions', 'globmatch',
  'inputvalues', 'jsonbuiltins', 'keywordrefs', 'negation', 'netcidrcontains', 'objectfilter', 'objectget',
  'objectkeys', 'objectremove', 'objectunion', 'objectunionn', 'partialobjectdoc', 'partialsetdoc', 'refheads',
  'regexfind', 'regexmatch', 'regexreplace', 'regexsplit', 'semvercompare', 'sets', 'sprintf', 'strings',
  'stringinterpolation', 'time', 'trim', 'trimleft', 'trimprefix', 'trimright', 'trimspace', 'trimsuffix',
  'typebuiltin', 'typenamebuiltin', 'virtualdocs', 'withkeyword',
];

export const SKIPPED_FOLDERS: Record<string, string> = {
  graphql: 'graphql.* builtins (a GraphQL schema parser and validator) are out of scope for file-governance policies',
  'providers-aws': 'providers.aws.sign_req (AWS SigV4 request signing) is out of scope: policies here make no HTTP requests',
  jsonschema: 'json.verify_schema / json.match_schema need a full JSON Schema implementation inside the engine; not needed by governance policies',
  regometadatachain: 'rego.metadata.chain needs METADATA annotations, which this engine does not parse',
  regometadatarule: 'rego.metadata.rule needs METADATA annotations, which this engine does not parse',
  regoparsemodule: 'rego.parse_module returns OPA\'s internal AST JSON, which this engine does not mirror',
  netlookupipaddr: 'net.lookup_ip_addr does DNS at evaluation time; a decision on the FUSE hot path must never wait on the network',
  rand: 'rand.intn is non-deterministic; decisions must be reproducible for the audit trail',
  cryptox509parseandverifycertificates: 'X.509 certificate parsing builtins are out of scope for file-governance policies',
  cryptox509parsecertificaterequest: 'X.509 certificate parsing builtins are out of scope for file-governance policies',
  cryptox509parsecertificates: 'X.509 certificate parsing builtins are out of scope for file-governance policies',
  cryptox509parsekeypair: 'X.509 certificate parsing builtins are out of scope for file-governance policies',
  cryptox509parsersaprivatekey: 'X.509 / RSA key parsing builtins are out of scope for file-governance policies',
  cryptoparsersaprivatekeys: 'X.509 / RSA key parsing builtins are out of scope for file-governance policies',
  jwtbuiltins: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtdecodeverify: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtencodesign: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtencodesignheadererrors: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtencodesignpayloaderrors: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtencodesignraw: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtverifyeddsa: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtverifyhs256: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtverifyhs384: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtverifyhs512: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
  jwtverifyrsa: 'io.jwt.* (token decoding and signing) is out of scope for file-governance policies',
};
