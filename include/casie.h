/*
 * casie.h - the public API of libcasie: cybersecurity event extraction.
 *
 * libcasie reads English news and security articles and extracts the events of
 * the CASIE schema (Satyapanich, Ferraro and Finin, AAAI 2020): hoppers of
 * coreferent events, each with a subtype, a realis value, a trigger span
 * ("nugget") and argument spans with a role and an entity type.
 *
 * This header is the whole interface; nothing else is exported.
 *
 * Conventions
 * - Every offset is a Unicode code-point offset into the document text, end
 *   exclusive, as in the CASIE corpus.  Text is UTF-8.  Invalid UTF-8 is never
 *   rejected: each byte that does not start a valid sequence reads as U+FFFD and
 *   counts as one code point (see casie_doc_from_text).
 * - Calls that can fail take an optional `casie_error *` (may be NULL) and
 *   return NULL or a negative casie_status.  There is no global error state.
 * - Whoever allocates provides the free: objects returned by casie_*_new/_load/
 *   _read/_train are freed by the matching casie_*_free, which accepts NULL.
 *   Strings returned to the caller are freed with casie_free.
 * - Thread safety: a casie_model is immutable once loaded or trained and may be
 *   shared by any number of threads calling casie_extract on different
 *   documents.  A casie_doc or casie_eval is owned by one thread at a time.
 * - The library never prints and never exits; progress goes through callbacks.
 */
#ifndef CASIE_H
#define CASIE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CASIE_BUILD) && defined(__GNUC__)
#define CASIE_API __attribute__((visibility("default")))
#else
#define CASIE_API
#endif

#define CASIE_VERSION_MAJOR 0
#define CASIE_VERSION_MINOR 1
#define CASIE_VERSION_PATCH 0
#define CASIE_VERSION_STRING "0.1.0"

/* "0.1.0": the version of the library actually linked. */
CASIE_API const char *casie_version(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum casie_status {
    CASIE_OK = 0,
    CASIE_ERR_NOMEM = -1,         /* an allocation failed */
    CASIE_ERR_IO = -2,            /* a file could not be opened, read or written */
    CASIE_ERR_PARSE = -3,         /* malformed JSON or source file */
    CASIE_ERR_SCHEMA = -4,        /* valid JSON that is not a CASIE document */
    CASIE_ERR_LIMIT = -5,         /* input over a size or nesting limit */
    CASIE_ERR_MODEL_MAGIC = -6,   /* not a casie model file */
    CASIE_ERR_MODEL_VERSION = -7, /* a model format newer than this library */
    CASIE_ERR_MODEL_CORRUPT = -8, /* truncated, bad offsets or bad checksum */
    CASIE_ERR_INVALID_ARG = -9,   /* a bad parameter or argument */
    CASIE_ERR_EMPTY = -10,        /* nothing to train on / no input */
    CASIE_ERR_ENCODER = -11       /* the encoder a model reads is missing or not the one it was trained with */
} casie_status;

typedef struct casie_error {
    int code;          /* a casie_status */
    long position;     /* byte offset in the input where it applies, or -1 */
    char message[256]; /* human-readable, names the file/record when known */
} casie_error;

/* A short fixed description of a status code ("out of memory", ...). */
CASIE_API const char *casie_status_string(int code);

/* Frees memory the library handed to the caller (strings, buffers). */
CASIE_API void casie_free(void *p);

/* The JSON record of a failure, {"id":"...","error":"..."} on one line
 * without a newline ("id" left out when id is NULL), as `casie extract`
 * and `casie serve` write it: strings escaped as casie_doc_to_json escapes
 * them, invalid UTF-8 as U+FFFD.  The caller frees it with casie_free;
 * *len is its length if len is not NULL; NULL when out of memory.
 * Thread-safe. */
CASIE_API char *casie_error_to_json(const char *id, const char *message, size_t *len);

/* ------------------------------------------------------------------------ */
/* Labels                                                                   */
/* ------------------------------------------------------------------------ */

enum { CASIE_N_SUBTYPES = 5, CASIE_N_REALIS = 3, CASIE_N_ROLES = 26, CASIE_N_ENTITY_TYPES = 21 };

typedef enum casie_subtype {
    CASIE_SUBTYPE_DATABREACH = 0,
    CASIE_SUBTYPE_PHISHING,
    CASIE_SUBTYPE_RANSOM,
    CASIE_SUBTYPE_DISCOVER_VULNERABILITY,
    CASIE_SUBTYPE_PATCH_VULNERABILITY
} casie_subtype;

typedef enum casie_realis { CASIE_REALIS_ACTUAL = 0, CASIE_REALIS_GENERIC, CASIE_REALIS_OTHER } casie_realis;

/* Name tables.  Indices are the enum values above; roles and entity types are
 * numbered in the order casie_role_name / casie_entity_name give (0..N-1).
 * *_name returns NULL for an index out of range; *_from_name returns -1 for
 * an unknown name.  Thread-safe (constant tables). */
CASIE_API const char *casie_subtype_name(int subtype);    /* "Databreach" */
CASIE_API const char *casie_event_type_name(int subtype); /* "Attack" */
CASIE_API const char *casie_realis_name(int realis);      /* "Actual" */
CASIE_API const char *casie_role_name(int role);          /* "Victim" */
CASIE_API const char *casie_entity_name(int entity);      /* "Organization" */
CASIE_API int casie_subtype_from_name(const char *name);
CASIE_API int casie_realis_from_name(const char *name); /* "General" reads as Generic */
CASIE_API int casie_role_from_name(const char *name);
CASIE_API int casie_entity_from_name(const char *name);

/* Argument categories, the corpus's second layer: a Purpose argument's
 * `role.subtype` (CASIE_N_PURPOSES categories: "Gathering data", ...) and a
 * Capabilities, Attack-Pattern or Issues-Addressed argument's
 * `role.CAPEC-Meta` (CASIE_N_CAPEC meta attack patterns of the CAPEC
 * catalogue: "Flooding", ...).  casie_role_category gives the kind of a role
 * (CASIE_CAT_NONE for the other roles); casie_category_name(kind, i) the
 * i-th name of a kind, NULL out of range; casie_category_from_name its index,
 * -1 for an unknown name.  Thread-safe (constant tables). */
enum { CASIE_CAT_NONE = 0, CASIE_CAT_PURPOSE = 1, CASIE_CAT_CAPEC = 2 };
enum { CASIE_N_PURPOSES = 7, CASIE_N_CAPEC = 45 };
CASIE_API int casie_role_category(int role);
CASIE_API int casie_category_count(int kind);
CASIE_API const char *casie_category_name(int kind, int i);
CASIE_API int casie_category_from_name(int kind, const char *name);

/* ------------------------------------------------------------------------ */
/* Documents                                                                */
/* ------------------------------------------------------------------------ */

typedef struct casie_token {
    int32_t start, end; /* code points, end exclusive */
    int32_t sent;       /* index of its sentence */
    uint32_t flags;     /* CASIE_TOK_* */
} casie_token;

enum {
    CASIE_TOK_WORD = 1u << 0,    /* letters (may contain ' - .) */
    CASIE_TOK_NUMBER = 1u << 1,  /* digits, version numbers, money amounts */
    CASIE_TOK_PUNCT = 1u << 2,   /* punctuation and symbols */
    CASIE_TOK_URL = 1u << 3,     /* URL, domain or e-mail address */
    CASIE_TOK_EMAIL = 1u << 4,   /* e-mail address */
    CASIE_TOK_IP = 1u << 5,      /* IPv4 address */
    CASIE_TOK_CVE = 1u << 6,     /* CVE-YYYY-NNNN */
    CASIE_TOK_VERSION = 1u << 7, /* 10.3.2, v2.1 */
    CASIE_TOK_FILE = 1u << 8,    /* invoice.doc.exe */
    CASIE_TOK_MONEY = 1u << 9,   /* a currency symbol or a number next to one */
    CASIE_TOK_ABBREV = 1u << 10, /* U.S., Inc., Jan. */
    CASIE_TOK_PERCENT = 1u << 11
};

typedef struct casie_sentence {
    int32_t start, end;         /* code points */
    int32_t tok_begin, tok_end; /* token index range, end exclusive */
} casie_sentence;

typedef struct casie_arg {
    int32_t start, end; /* code points, end exclusive */
    char *text;         /* the span's text (UTF-8) */
    int role;           /* 0..CASIE_N_ROLES-1 */
    int entity;         /* 0..CASIE_N_ENTITY_TYPES-1 */
    float score;        /* confidence in [0,1]; negative when not set */
    char *index;        /* "T2", or NULL */
    char *extra;        /* unknown fields of the argument, as a JSON object text, or NULL */
    char *role_extra;   /* unknown fields of its role object, as JSON object text, or NULL */
    /* The argument's category (casie_role_category: a Purpose's subtype, a
     * CAPEC meta attack pattern for Capabilities, Attack-Pattern and
     * Issues-Addressed): one of casie_category_name's strings (static, never
     * freed), or NULL for none; category_score is its confidence in [0,1],
     * negative when not set. */
    const char *category;
    double category_score;
} casie_arg;

typedef struct casie_event {
    int subtype;        /* casie_subtype */
    int realis;         /* casie_realis */
    int32_t start, end; /* the trigger ("nugget"), code points */
    char *text;         /* the trigger's text */
    float score;        /* confidence in [0,1]; negative when not set */
    char *index;        /* "E1", or NULL */
    char *nugget_index; /* "T1", or NULL */
    casie_arg *args;
    int n_args;
} casie_event;

typedef struct casie_hopper {
    casie_event *events;
    int n_events;
} casie_hopper;

/* A span that could not be put back on its text while reading (corpus quirk). */
typedef struct casie_span_issue {
    int32_t start, end; /* the offsets as given */
    char *text;         /* the span text as given */
} casie_span_issue;

/* A document: its text, its analysis (sentences, tokens) and its events.
 * All arrays are owned by the document and freed by casie_doc_free. */
typedef struct casie_doc {
    char *id;                              /* "10012" (sourcefile without .txt, or the record id) */
    char *sourcefile;                      /* "10012.txt", or NULL */
    char *title, *date, *link, *info_type; /* from "info"; each may be NULL */

    char *text;       /* valid UTF-8, NUL-terminated (invalid bytes became U+FFFD) */
    size_t text_len;  /* bytes, without the NUL */
    int32_t n_cp;     /* code points */
    int32_t *cp_byte; /* (n_cp+1,) byte offset of each code point in text */

    casie_sentence *sents;
    int32_t n_sents;
    casie_token *tokens;
    int32_t n_tokens;

    casie_hopper *hoppers;
    int n_hoppers;

    int n_repaired;           /* spans moved back onto their text on reading */
    casie_span_issue *issues; /* spans that could not be repaired */
    int n_issues;

    int id_is_integer; /* the record's "id" was a JSON integer (id holds its digits) */
} casie_doc;

/* The byte offset of the first byte in s (n bytes) that does not begin a
 * valid, shortest-form UTF-8 sequence (no surrogates, at most U+10FFFF;
 * NUL is valid), or -1 when all n bytes are valid UTF-8: the test by which
 * the library replaces bytes with U+FFFD, for callers that refuse such input
 * instead (casie serve).  Thread-safe. */
CASIE_API long casie_utf8_check(const char *s, size_t n);

/* Makes a document from raw bytes (any encoding errors replaced, see top).
 * `id` may be NULL.  The document has no events and is not yet analyzed.
 * Its title is the first line when that is a headline (at most 200 bytes,
 * a line break and more text after it), its date ("YYYY_MM_DD") a date
 * written in the first three lines (2026-03-04, "March 4, 2026", "4 March
 * 2026"); both NULL otherwise. */
CASIE_API casie_doc *casie_doc_from_text(const char *bytes, size_t len, const char *id, casie_error *err);

/* Splits sentences and tokenizes (idempotent).  Returns CASIE_OK or < 0. */
CASIE_API int casie_doc_analyze(casie_doc *doc, casie_error *err);

/* Reads one JSON document: a CASIE annotation (content, sourcefile, info,
 * cyberevent) or a record with its text in "text" or "content" and its name in
 * "id" or "sourcefile".  Annotations are read if present; drifting spans are
 * repaired (doc->n_repaired) or listed in doc->issues.  `name` (may be NULL)
 * is used in error messages. */
CASIE_API casie_doc *casie_doc_from_json(const char *json, size_t len, const char *name, casie_error *err);

/* casie_doc_from_json with flags CASIE_READ_*.  CASIE_READ_TEXT_ONLY reads
 * the text, the names and "info" only: the annotations are neither read nor
 * checked (the document has no events, and a malformed annotation is no
 * error), for callers that ignore them, such as extraction. */
enum { CASIE_READ_TEXT_ONLY = 1 };
CASIE_API casie_doc *casie_doc_from_json_opts(const char *json, size_t len, const char *name, int flags,
                                              casie_error *err);

/* Reads a CASIE source file (<title>, <source>, <date>, <text> sections); the
 * text is the <text> section with line breaks as spaces, trimmed. */
CASIE_API casie_doc *casie_doc_from_source(const char *bytes, size_t len, const char *name, casie_error *err);

/* What len bytes named `name` (a path, or NULL) hold: CASIE_INPUT_JSON for
 * a name ending in .json or bytes whose first character after a UTF-8
 * byte-order mark and white space is '{'; CASIE_INPUT_SOURCE when that
 * character opens a <title>, <text>, <source> or <date> tag (a CASIE source
 * file); else CASIE_INPUT_TEXT.  The rule of casie_doc_load and of the CLI's
 * automatic input format.  Thread-safe. */
enum { CASIE_INPUT_TEXT = 0, CASIE_INPUT_JSON = 1, CASIE_INPUT_SOURCE = 2 };
CASIE_API int casie_doc_detect_format(const char *bytes, size_t len, const char *name);

/* Reads a file as casie_doc_detect_format tells: JSON as casie_doc_from_json,
 * a source file as casie_doc_from_source, anything else as plain text (id =
 * file's base name without extension). */
CASIE_API casie_doc *casie_doc_load(const char *path, casie_error *err);

/* Serializes in the CASIE annotation schema.  Returns a NUL-terminated string
 * the caller frees with casie_free (and its length in *len if not NULL), or
 * NULL.  flags: CASIE_JSON_* */
enum { CASIE_JSON_COMPACT = 1, CASIE_JSON_SCORES = 2 };
CASIE_API char *casie_doc_to_json(const casie_doc *doc, int flags, size_t *len, casie_error *err);

/* The document's events as a STIX 2.1 bundle: a report for the article
 * referring to threat-actor, intrusion-set, identity, malware, tool,
 * vulnerability, course-of-action, attack-pattern and campaign objects and
 * their relationships.  Ids are
 * UUIDv5 over the content and timestamps come from the article date, so the
 * same document gives the same bytes (an undated one is dated by the run).
 * flags: CASIE_JSON_COMPACT.  The caller
 * frees the result with casie_free.  Thread-safe for distinct documents. */
CASIE_API char *casie_doc_to_stix(const casie_doc *doc, int flags, size_t *len, casie_error *err);

/* ---- threat groups: a catalogue of named groups (docs/FORMAT.md) ---- */

/* A catalogue of threat groups and ransomware families, each with its
 * aliases, as scripts/fetch_groups.sh makes it from the MISP galaxy
 * (casie-groups.tsv).  Read-only once loaded: thread-safe. */
typedef struct casie_groups casie_groups;
typedef struct casie_group {
    const char *id;             /* the catalogue's UUID of the group */
    const char *kind;           /* "actor" or "ransomware" */
    const char *name;           /* as the catalogue names it: "Sodinokibi" */
    const char *url;            /* a reference about it, or "" */
    const char *source;         /* where the entry comes from: "misp-galaxy:ransomware" */
    const char *const *aliases; /* other names: "REvil", "Revil" */
    int n_aliases;
} casie_group;
/* Loads a catalogue file.  NULL on failure: CASIE_ERR_IO (cannot be read),
 * CASIE_ERR_PARSE (not a catalogue, or a bad line: the message names the
 * file and line, err->position is the line), CASIE_ERR_LIMIT (a line over
 * 64 KiB), CASIE_ERR_NOMEM.  Free with casie_groups_free. */
CASIE_API casie_groups *casie_groups_load(const char *path, casie_error *err);
/* Loads casie-groups.tsv from the first of dirs (NULL-terminated, may be
 * NULL), the data folder casie was installed with, ./models, that has it.
 * CASIE_ERR_IO when none has. */
CASIE_API casie_groups *casie_groups_open(const char *const *dirs, casie_error *err);
CASIE_API void casie_groups_free(casie_groups *groups);
/* The number of groups, and group i (0 <= i < count; borrowed from groups). */
CASIE_API int casie_groups_count(const casie_groups *groups);
CASIE_API const casie_group *casie_groups_get(const casie_groups *groups, int i);
/* The group a mention names, or NULL: quotes, a possessive, a leading "the"
 * and words such as "ransomware", "gang", "group", "operators" around the
 * name are dropped ("Ransomware gang “REvil”" names Sodinokibi), then
 * the rest is compared with each name and alias, case aside when the mention
 * is written as a name (it has a capital letter or a digit).  Borrowed. */
CASIE_API const casie_group *casie_groups_match(const casie_groups *groups, const char *mention);

/* ---- STIX bundles of many documents ---- */

/* One STIX 2.1 bundle built from many documents: each document's report
 * refers to its own objects, and what documents share is one object: a
 * vulnerability per CVE id, an intrusion-set per catalogue group (groups,
 * borrowed, may be NULL: then attackers are named as written, as
 * casie_doc_to_stix does).  casie_doc_to_stix(doc) is the bundle of doc
 * alone without a catalogue.  Not thread-safe: one thread adds. */
typedef struct casie_stix casie_stix;
CASIE_API casie_stix *casie_stix_new(const casie_groups *groups, casie_error *err);
/* Adds doc's report and objects (doc is not kept).  CASIE_OK, or a
 * CASIE_ERR_* (the bundle is then unchanged only for CASIE_ERR_INVALID_ARG). */
CASIE_API int casie_stix_add(casie_stix *stix, const casie_doc *doc, casie_error *err);
/* The bundle so far (flags: CASIE_JSON_COMPACT), freed with casie_free.
 * The reports come first, in the order added, then the other objects. */
CASIE_API char *casie_stix_write(const casie_stix *stix, int flags, size_t *len, casie_error *err);
CASIE_API void casie_stix_free(casie_stix *stix);

/* The document's events as HTML (what `casie render` writes): the article
 * with its triggers and arguments highlighted and the events listed by
 * hopper, after the article's title, date and a summary table of its events
 * by hopper; self-contained (inline CSS and script, no network).  flags: 0
 * for the document's <section> alone; CASIE_HTML_HEAD prepends the page's
 * head (styles, legend, the filters by subtype, realis and score) and
 * CASIE_HTML_TAIL appends its end (the filters' script), so CASIE_HTML_PAGE
 * gives a whole page.  doc may be NULL (no section): a page of several
 * documents is HEAD, each document's section, then TAIL.  The caller frees
 * the result with casie_free.  Thread-safe for distinct documents. */
enum { CASIE_HTML_HEAD = 1, CASIE_HTML_TAIL = 2, CASIE_HTML_PAGE = 3 };
CASIE_API char *casie_doc_to_html(const casie_doc *doc, int flags, size_t *len, casie_error *err);

/* For each argument of doc (hoppers, events, arguments in order: the flat
 * index of argument k of event j of hopper h counts every argument before
 * it), the most specific mention it stands for: its own text when it names
 * someone or something in particular (a name, a version, a CVE id), else,
 * for a participant's role (Attacker, Victim, Tool, Vulnerability, Patch,
 * Releaser, ...), the first such mention of its role in its hopper, else the
 * one name the article gives its role; NULL when there is none ("the
 * company", "users", "the flaw", a pronoun).  The strings are borrowed from doc's arguments;
 * the caller frees the array with casie_free.  *n (may be NULL) gets the
 * argument count.  NULL on error.  Thread-safe for distinct documents. */
CASIE_API const char **casie_doc_arg_names(const casie_doc *doc, int *n, casie_error *err);

/* Removes all events (keeps text and analysis). */
CASIE_API void casie_doc_clear_events(casie_doc *doc);

CASIE_API void casie_doc_free(casie_doc *doc);

/* ------------------------------------------------------------------------ */
/* Corpus                                                                   */
/* ------------------------------------------------------------------------ */

/* A set of documents read from a directory of <id>.json files or a JSONL file. */
typedef struct casie_corpus {
    casie_doc **docs;
    int n_docs;
} casie_corpus;

/* Reads DIR/annotation/<id>.json (or DIR/<id>.json when DIR has no
 * annotation/ folder).  `ids` (may be NULL: all) lists the ids to read;
 * a listed id with no file is an error.  Documents come sorted by id when
 * ids is NULL, else in the order of ids. */
CASIE_API casie_corpus *casie_corpus_read(const char *dir, const char *const *ids, int n_ids, casie_error *err);

/* Reads a split file: one id per line.  Returns an array of n strings (and
 * *n), freed with casie_strings_free. */
CASIE_API char **casie_read_ids(const char *path, int *n, casie_error *err);
CASIE_API void casie_strings_free(char **s, int n);
CASIE_API void casie_corpus_free(casie_corpus *c);

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */
/* ------------------------------------------------------------------------ */

typedef enum casie_metric {
    CASIE_METRIC_TRIG_I = 0,   /* trigger span */
    CASIE_METRIC_TRIG_C,       /* trigger span + subtype */
    CASIE_METRIC_ARG_I,        /* subtype + argument span */
    CASIE_METRIC_ARG_C,        /* subtype + role + argument span */
    CASIE_METRIC_ARG_C_LINKED, /* trigger span + subtype + role + argument span */
    CASIE_METRIC_REALIS,       /* trigger span + subtype + realis */
    CASIE_METRIC_ENT_TYPE,     /* argument span + entity type */
    CASIE_METRIC_COREF,        /* pairs of trigger spans in one hopper */
    CASIE_METRIC_COREF_MUC,    /* MUC links over trigger spans (tp: common links) */
    CASIE_N_METRICS
} casie_metric;

CASIE_API const char *casie_metric_name(int metric); /* "trig_i" ... */

typedef struct casie_counts {
    long tp, fp, fn;
} casie_counts;

typedef struct casie_eval casie_eval; /* an accumulator over documents */

CASIE_API casie_eval *casie_eval_new(void);
/* Adds one document pair (pred may be NULL: an empty prediction). */
CASIE_API int casie_eval_add(casie_eval *ev, const casie_doc *gold, const casie_doc *pred, casie_error *err);
/* Totals for a metric.  subtype = -1 for all, else only tuples of that
 * subtype; role = -1 for all, else only argument tuples of that role
 * (role filters apply to arg_i, arg_c, arg_c_linked only). */
CASIE_API casie_counts casie_eval_counts(const casie_eval *ev, int metric, int subtype, int role);
CASIE_API void casie_eval_free(casie_eval *ev);

/* Argument categories scored on the arguments both sides have: distinct
 * (span, role) pairs of a kind (CASIE_CAT_PURPOSE or CASIE_CAT_CAPEC) whose
 * gold and predicted arguments both carry a category.  For category -1 (all):
 * matched pairs, correct ones, and `majority`, the pairs whose gold category
 * is the most frequent one (the accuracy of always guessing it); for a
 * category i: matched pairs with gold i, those predicted i among them
 * (correct), and pairs predicted i (predicted). */
typedef struct casie_category_counts {
    long matched, correct, predicted, majority;
} casie_category_counts;
CASIE_API casie_category_counts casie_eval_category(const casie_eval *ev, int kind, int category);

/* Precision, recall and F1 in percent from counts (0 when undefined). */
CASIE_API void casie_prf(casie_counts c, double *p, double *r, double *f1);

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct casie_model casie_model;

/* Progress callback for training: a one-line message.  May be NULL. */
typedef void (*casie_log_fn)(void *user, const char *msg);

typedef struct casie_train_params {
    uint64_t seed;          /* shuffling seed; same seed + data = same model bytes */
    int threads;            /* worker threads (1..64) */
    int epochs;             /* passes for every learner (0..1000); 0 = each learner's own (*_epochs below) */
    const char *clusters;   /* word clusters TSV (word, then three cluster ids, coarse to fine), or NULL */
    const char *embeddings; /* word vectors (glove100.bin, scripts/glove_convert.c) for the first
                               emb_words words of the clusters file, or NULL */
    int emb_words;          /* how many clustered words get a vector (1..65535) */
    int hidden;             /* LSTM states per direction of the neural taggers (1..512) */
    int head;               /* hidden units of their heads (1..512) */
    float lr;               /* Adam step of the neural taggers, in (0, 1) */
    float dropout;          /* dropout on inputs and states, in [0, 0.9); 0 = none */
    int arg_nets;           /* argument networks, trained from different seeds, scores added (1 or 2) */
    int trig_nets;          /* trigger networks, likewise (1 or 2) */
    const char *corpus_tag; /* recorded in the metadata (e.g. corpus path, split), or NULL */
    casie_log_fn log;       /* progress, may be NULL */
    void *log_user;
    const char *encoder; /* an encoder file (casie encoder import) whose layers become extra inputs of
                            every network, or NULL: none.  The model names it and needs it to load. */
    int enc_first;       /* the encoder's layers each token reads, their mean: enc_first..enc_last */
    int enc_last;        /* (1-based; 0, 0: its last four layers) */
    int feature_version; /* the sparse features the linear models read (3 up to the newest): an older one
                            rebuilds a model made before a newer existed */
    const char *recipe;  /* recorded in the metadata: the command that made the model, or NULL */
    const char *commit;  /* recorded in the metadata: the source commit it was made from, or NULL */
    /* each learner's own passes (1..1000), used when epochs is 0 */
    int trig_epochs;       /* the trigger perceptron */
    int arg_epochs;        /* the argument perceptron */
    int ent_realis_epochs; /* the entity-type and realis perceptrons */
    int coref_epochs;      /* the coreference perceptron */
    int trig_nn_epochs;    /* each trigger network (the best on dev is kept) */
    int arg_nn_epochs;     /* each argument network, likewise */
    int nn_average_from;   /* the networks' weights are averaged from this epoch on (1-based, 1..1000) */
    int cat_epochs;        /* the argument category classifier */
    float cat_lr;          /* its AdaGrad step, in (0, 10] */
    float cat_l2;          /* its L2 penalty on the weights each example touches, in [0, 1]; 0 = none */
    int cat_row_bits;      /* its hashed feature rows: 2^cat_row_bits (8..22) */
} casie_train_params;

/* The defaults of every parameter (those of the table below; no files, no
 * log).  Start from these and change fields. */
CASIE_API casie_train_params casie_train_default_params(void);

/* The parameters that can be set by name, one table (what `casie train
 * --help` prints): entry i, or NULL past the last.  Static; thread-safe. */
typedef struct casie_train_option {
    const char *name;  /* the field of casie_train_params, e.g. "arg_nets" */
    const char *value; /* what it takes: "N" (a whole number), "X" (a number), "FILE" or "TEXT" */
    const char *help;  /* one line, with its range */
    double dflt;       /* its default (a FILE's: none) */
} casie_train_option;
CASIE_API const casie_train_option *casie_train_option_at(int i);
/* Sets parameter `name` (casie_train_option_at's) from text, checked
 * against its range; a FILE value is borrowed, not copied.
 * CASIE_ERR_INVALID_ARG names the parameter and the value refused. */
CASIE_API int casie_train_param_set(casie_train_params *p, const char *name, const char *value, casie_error *err);

/* Trains a model on `train` documents (with events), reporting dev scores on
 * `dev` (may be NULL/0).  Returns NULL on failure. */
CASIE_API casie_model *casie_train(casie_doc *const *train, int n_train, casie_doc *const *dev, int n_dev,
                                   const casie_train_params *params, casie_error *err);

CASIE_API int casie_model_save(const casie_model *model, const char *path, casie_error *err);
/* What loading may be told besides a path.  The library reads no
 * environment variable: the CLI, the service and the Python package read
 * $CASIE_MODEL_DIR and $CASIE_ENCODER and pass them in here. */
typedef struct casie_model_load_params {
    const char *const *dirs;  /* folders to look in for a model by name, first (NULL-terminated; NULL: none) */
    const char *encoder_path; /* the encoder file a model over an encoder reads (NULL or "": the file the model
                               * names, beside the model or in an encoders/ folder beside it) */
} casie_model_load_params;
CASIE_API casie_model_load_params casie_model_default_load_params(void);
/* Refuses a file that is not a model, newer, truncated or corrupt.
 * casie_model_load is casie_model_load_with the default parameters. */
CASIE_API casie_model *casie_model_load(const char *path, casie_error *err);
CASIE_API casie_model *casie_model_load_with(const char *path, const casie_model_load_params *params, casie_error *err);
/* The path of model `name`: "fast" or "accurate" (casie-NAME.model, looked
 * for in dirs (NULL-terminated, may be NULL), the data folder casie was
 * installed with, ./models), else name itself as a path.
 * CASIE_ERR_IO when a named model is nowhere (path then holds its file name). */
CASIE_API int casie_model_find(const char *name, const char *const *dirs, char *path, size_t path_len);
/* Loads a model by name or path (casie_model_find over params->dirs).  NULL
 * or "default": the accurate model when it loads (its encoder installed),
 * else the fast one; then err->code is CASIE_OK and err->message says why
 * not the accurate one ("" when it is).  casie_model_open(name, dirs, err)
 * is casie_model_open_with the default parameters and those dirs. */
CASIE_API casie_model *casie_model_open(const char *name, const char *const *dirs, casie_error *err);
CASIE_API casie_model *casie_model_open_with(const char *name, const casie_model_load_params *params, casie_error *err);
CASIE_API void casie_model_free(casie_model *model);
/* Whether the model predicts argument categories (casie_arg.category);
 * models made before they existed load and predict none. */
CASIE_API int casie_model_has_categories(const casie_model *model);
/* Whether the model's networks read a transformer encoder (the accurate
 * model): such a model extracts about a hundred times slower per byte. */
CASIE_API int casie_model_has_encoder(const casie_model *model);
/* Trains the argument category classifier on `train` (documents with
 * events and categories; params, checked as casie_train's: seed, epochs or
 * cat_epochs, the other cat_* parameters, log) over the token features
 * of the model file in_path, and writes to out_path that file with the
 * classifier's section added (replacing one it had): every other section is
 * copied byte for byte, so the model extracts the same events.  out_path may
 * be in_path (written atomically).  Scores on `dev` (may be NULL/0) go to the
 * log. */
CASIE_API int casie_model_add_categories(const char *in_path, const char *out_path, casie_doc *const *train,
                                         int n_train, casie_doc *const *dev, int n_dev,
                                         const casie_train_params *params, casie_error *err);
/* Model metadata as a JSON object text (caller frees with casie_free). */
CASIE_API char *casie_model_metadata(const casie_model *model);

typedef struct casie_extract_params {
    float trigger_threshold;  /* keep triggers scoring at least this (0..1) */
    float argument_threshold; /* keep arguments scoring at least this (0..1) */
    int given_triggers;       /* 1: keep doc's events as triggers, redo the rest */
    int threads;              /* threads for this document's encoder (1..64; 0 counts as 1): a long
                                 article on a model with an encoder, sooner; the same result */
} casie_extract_params;

CASIE_API casie_extract_params casie_extract_default_params(void);

/* An upper estimate of the memory (bytes) casie_extract takes on a text of n
 * bytes with this model: the document's tokens, features and scratch, its
 * events, and for a model that reads an encoder the encoder's windows and the
 * token vectors (the measurements are in docs/HARDENING.md). */
CASIE_API size_t casie_extract_memory(const casie_model *model, size_t n);

/* Replaces doc's events with the model's (analyzing doc first if needed).
 * Thread-safe for distinct docs sharing one model. */
CASIE_API int casie_extract(const casie_model *model, casie_doc *doc, const casie_extract_params *params,
                            casie_error *err);

/* ------------------------------------------------------------------------ */
/* Transformer encoder                                                      */
/* ------------------------------------------------------------------------ */

/* A pretrained BERT-family encoder in casie's own file (docs/FORMAT.md, "The
 * encoder file"; docs/ENCODER.md), imported once from a Hugging Face
 * checkpoint.  Immutable once loaded: any number of threads may share one. */
typedef struct casie_encoder casie_encoder;

typedef struct casie_encoder_config {
    int32_t n_layers;      /* transformer layers */
    int32_t hidden;        /* H, the width of every hidden state */
    int32_t n_heads;       /* attention heads (H / n_heads each) */
    int32_t intermediate;  /* width of the feed-forward layer */
    int32_t max_positions; /* the longest sequence, [CLS] and [SEP] included */
    int32_t type_vocab;    /* token types */
    int32_t n_vocab;       /* WordPiece vocabulary */
    int32_t lowercase;     /* 1: an uncased vocabulary (lower-case and strip accents first) */
    float layer_norm_eps;
    int32_t cls_id, sep_id, pad_id, unk_id; /* the special pieces, -1 when the vocabulary lacks one */
    uint64_t hash;    /* of the vocabulary and weights, computed on import: identifies the encoder */
    const char *name; /* where it came from (the checkpoint's name), NUL-terminated; owned by the encoder */
    int32_t arch;     /* CASIE_ENCODER_BERT or CASIE_ENCODER_MPNET */
    /* MPNet: the relative position buckets whose learned bias every layer's
     * attention adds (0 for BERT), and the position id of the first piece
     * (its padding id + 1; 0 for BERT) */
    int32_t rel_buckets, pos_offset;
} casie_encoder_config;

enum { CASIE_ENCODER_BERT = 0, CASIE_ENCODER_MPNET = 1 };

/* Converts a BERT-family checkpoint (model_type "bert" or "mpnet") in the
 * Hugging Face layout (dir holds config.json, vocab.txt, model.safetensors,
 * and tokenizer_config.json when there is one) into an encoder file at
 * out_path, written atomically.
 * Refuses anything else (another model type or activation, missing or
 * misshapen tensors, dtypes other than F32/F16/BF16) naming the file. */
CASIE_API int casie_encoder_import(const char *dir, const char *out_path, casie_error *err);
/* Maps an encoder file; refuses one that is not an encoder file, newer,
 * truncated, corrupt or inconsistent in shapes (never half-loaded). */
CASIE_API casie_encoder *casie_encoder_load(const char *path, casie_error *err);
CASIE_API void casie_encoder_free(casie_encoder *enc);
/* The encoder's configuration, valid until casie_encoder_free. */
CASIE_API const casie_encoder_config *casie_encoder_get_config(const casie_encoder *enc);

/* Fine-tuning an encoder's top layers on the corpus (src/encoder_tune.c;
 * docs/DESIGN.md, "Training the encoder's layers"): each word piece's
 * vector, the mean of layers enc_first..enc_last as a model reads them,
 * feeds two linear heads, trigger and argument-role BIO labels of its
 * token, and the top train_layers layers learn from their softmax
 * cross-entropy (AdamW), each head's a mean weighted by event_weight.  The
 * parameters, checked before any work: */
typedef struct casie_encoder_tune_params {
    int enc_first, enc_last; /* the layers read (1-based, their mean; 0, 0: the last four), as a model's */
    int train_layers;        /* layers enc_last - train_layers + 1 .. enc_last are trained (1..enc_last) */
    int epochs;              /* passes over the windows (1..1000) */
    int batch;               /* windows per step (1..256) */
    int max_windows;         /* train on the documents' first max_windows windows only; 0: all */
    int threads;             /* worker threads (1..64); the result does not depend on them */
    float lr;                /* the layers' peak AdamW step, in (0, 1) */
    float head_lr;           /* the heads' peak step, in (0, 1) */
    float warmup;            /* the fraction of steps of linear warm-up, in [0, 1); then linear decay */
    float weight_decay;      /* AdamW's decoupled decay, in [0, 1) */
    float clip;              /* the gradients' global L2 norm is clipped to this; 0: never */
    float event_weight;      /* a piece's loss, per head, times this where its gold label is not O (0, 1000] */
    uint64_t seed;           /* the heads' initial weights and the order of windows */
    casie_log_fn log;        /* one line per tenth of an epoch and per epoch (loss, accuracy), or NULL */
    void *log_user;
} casie_encoder_tune_params;
/* The defaults (no log). */
CASIE_API casie_encoder_tune_params casie_encoder_tune_default_params(void);
/* Tunes enc on docs (with their gold events; analyzed here when they are
 * not) and writes the result to out_path: enc's file with the trained
 * layers' weights replaced, requantized, a new hash and name, every other
 * byte the same.  Refuses an out_path that exists (CASIE_ERR_IO, the file
 * untouched), checked before the work and again, atomically, at the end.
 * The same parameters and documents give the same bytes, whatever the
 * threads and the x86-64 CPU.  Reentrant; enc is only read. */
CASIE_API int casie_encoder_tune(const casie_encoder *enc, casie_doc *const *docs, int n_docs,
                                 const casie_encoder_tune_params *params, const char *out_path, casie_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CASIE_H */
