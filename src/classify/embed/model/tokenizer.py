"""BERT-style tokenisation (basic tokenizer + greedy longest-match WordPiece), the Python twin
of src/classify/embed/tokenizer.ts. The trainer uses it so the model sees exactly the ids the
runtime produces; test/fixtures/embed/tokenizer-cases.json pins the two together.
"""

import unicodedata

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIALS = [PAD, UNK, CLS, SEP, MASK]
MAX_WORD_CHARS = 100


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text, lowercase=True):
    """Clean, split CJK, lowercase + strip accents, split on whitespace and punctuation."""
    out = []
    cur = []

    def flush():
        if cur:
            out.append("".join(cur))
            cur.clear()

    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            flush()
            continue
        if _is_cjk(cp):
            flush()
            out.append(ch)
            continue
        if lowercase:
            low = ch.lower()
            # Strip accents the way BERT does: NFD, then drop combining marks.
            pieces = [c for c in unicodedata.normalize("NFD", low) if unicodedata.category(c) != "Mn"]
        else:
            pieces = [ch]
        for c in pieces:
            if _is_punctuation(c):
                flush()
                out.append(c)
            else:
                cur.append(c)
    flush()
    return out


def wordpiece(word, vocab):
    """Greedy longest-match-first pieces of one word; [UNK] when any part cannot be matched."""
    if len(word) > MAX_WORD_CHARS:
        return [UNK]
    pieces = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return [UNK]
        pieces.append(found)
        start = end
    return pieces


def encode(text, vocab, lowercase=True):
    """Token ids without [CLS]/[SEP] (the runtime adds them per chunk)."""
    ids = []
    for w in basic_tokenize(text, lowercase):
        for p in wordpiece(w, vocab):
            ids.append(vocab[p])
    return ids


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}
