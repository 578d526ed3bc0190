/*
 * train_params.c - the training parameters: one table of name, default,
 * range and help that gives casie_train_default_params() its values,
 * checks a parameter set before any work, sets one from text, and is what
 * `casie train --help` prints.
 *
 * Not here: what the parameters do (train*.c).
 */
#include "internal.h"
#include "feats.h"
#include "train_params.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum { P_U64, P_INT, P_FLOAT, P_FILE, P_TEXT };

/* A parameter: the public part, its field and type, its range (lo, hi
 * inclusive unless open says otherwise: bit 0 lo is excluded, bit 1 hi),
 * and meta: 1 when the model's metadata names it only when it is not its
 * default (those added after the shipped models were made, so that their
 * bytes stay the same; the others have keys of their own there, or none). */
typedef struct param_def {
    casie_train_option o;
    int kind;
    size_t off;
    double lo, hi;
    int open, meta;
} param_def;

#define F(field) offsetof(casie_train_params, field)
/* one entry a line: the table is read as a table (clang-format would break
 * the long ones into a field a line) */
/* clang-format off */
static const param_def PARAMS[] = {
    {{"seed", "N", "shuffling and initialisation seed (same seed and data, same model bytes)", 1},
     P_U64, F(seed), 0, 0, 0, 0},
    {{"threads", "N", "training threads, 1..64", 2}, P_INT, F(threads), 1, 64, 0, 0},
    {{"epochs", "N", "passes of every learner, 0..1000; 0: each learner's own", 0}, P_INT, F(epochs), 0, 1000, 0, 0},
    {{"emb_words", "N", "clustered words given a vector, most frequent first, 1..65535", 50000},
     P_INT, F(emb_words), 1, 65535, 0, 0},
    {{"hidden", "N", "LSTM states per direction in the neural taggers, 1..512", 64}, P_INT, F(hidden), 1, 512, 0, 0},
    {{"head", "N", "hidden units of the taggers' heads, 1..512", 64}, P_INT, F(head), 1, 512, 0, 0},
    {{"lr", "X", "Adam step of the neural taggers, in (0, 1)", 0.001}, P_FLOAT, F(lr), 0, 1, 3, 0},
    {{"dropout", "X", "dropout on the taggers' inputs and states, in [0, 0.9); 0: none", 0.25},
     P_FLOAT, F(dropout), 0, 0.9, 2, 0},
    {{"arg_nets", "N", "argument networks from different seeds, their scores added, 1..2", 2},
     P_INT, F(arg_nets), 1, 2, 0, 0},
    {{"trig_nets", "N", "trigger networks, likewise, 1..2", 1}, P_INT, F(trig_nets), 1, 2, 0, 0},
    {{"encoder", "FILE",
      "an encoder (casie encoder import) whose layers every network reads; the model needs it to load", 0},
     P_FILE, F(encoder), 0, 0, 0, 0},
    {{"enc_first", "N", "the first encoder layer whose output the networks read (a mean up to enc_last), 0..64; "
      "0: the last four", 0}, P_INT, F(enc_first), 0, 64, 0, 0},
    {{"enc_last", "N", "the last such layer, 0..64; 0: the encoder's last", 0}, P_INT, F(enc_last), 0, 64, 0, 0},
    {{"feature_version", "N", "the sparse features of the linear models, 3..6: 6, the newest; an older one "
      "rebuilds a model made before it", CASIE_FEATURE_VERSION}, P_INT, F(feature_version),
     CASIE_FEATURE_VERSION_MIN, CASIE_FEATURE_VERSION, 0, 0},
    {{"recipe", "TEXT", "the command that made the model, recorded in its metadata", 0}, P_TEXT, F(recipe), 0, 0, 0, 0},
    {{"commit", "TEXT", "the source commit the model was made from, recorded in its metadata", 0},
     P_TEXT, F(commit), 0, 0, 0, 0},
    /* each learner's own numbers */
    {{"trig_epochs", "N", "the trigger perceptron's passes when epochs is 0, 1..1000", 12},
     P_INT, F(trig_epochs), 1, 1000, 0, 1},
    {{"arg_epochs", "N", "the argument perceptron's, likewise, 1..1000", 10},
     P_INT, F(arg_epochs), 1, 1000, 0, 1},
    {{"ent_realis_epochs", "N", "the entity-type and realis perceptrons', likewise, 1..1000", 8},
     P_INT, F(ent_realis_epochs), 1, 1000, 0, 1},
    {{"coref_epochs", "N", "the coreference perceptron's, likewise, 1..1000", 6},
     P_INT, F(coref_epochs), 1, 1000, 0, 1},
    {{"trig_nn_epochs", "N", "each trigger network's epochs, likewise (the best on dev kept), 1..1000", 17},
     P_INT, F(trig_nn_epochs), 1, 1000, 0, 1},
    {{"arg_nn_epochs", "N", "each argument network's, likewise, 1..1000", 24},
     P_INT, F(arg_nn_epochs), 1, 1000, 0, 1},
    {{"nn_average_from", "N", "the networks' weights are averaged from this epoch on, 1..1000", 2},
     P_INT, F(nn_average_from), 1, 1000, 0, 1},
    {{"cat_epochs", "N", "the argument category classifier's passes, likewise, 1..1000", 12},
     P_INT, F(cat_epochs), 1, 1000, 0, 1},
    {{"cat_lr", "X", "its AdaGrad step, in (0, 10]", 0.05},
     P_FLOAT, F(cat_lr), 0, 10, 1, 1},
    {{"cat_l2", "X", "its L2 penalty on the weights each example touches, in [0, 1]; 0: none", 0},
     P_FLOAT, F(cat_l2), 0, 1, 0, 1},
    {{"cat_row_bits", "N", "its hashed feature rows: 2^N, 8..22", 14}, P_INT, F(cat_row_bits), 8, 22, 0, 1},
};
/* clang-format on */
#undef F
#define N_PARAMS ((int)(sizeof PARAMS / sizeof PARAMS[0]))

const casie_train_option *casie_train_option_at(int i) { return i >= 0 && i < N_PARAMS ? &PARAMS[i].o : NULL; }

casie_train_params casie_train_default_params(void) {
    casie_train_params p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < N_PARAMS; i++) {
        char *f = (char *)&p + PARAMS[i].off;
        switch (PARAMS[i].kind) {
        case P_U64:
            *(uint64_t *)(void *)f = (uint64_t)PARAMS[i].o.dflt;
            break;
        case P_INT:
            *(int *)(void *)f = (int)PARAMS[i].o.dflt;
            break;
        case P_FLOAT:
            *(float *)(void *)f = (float)PARAMS[i].o.dflt;
            break;
        default:
            break; /* a file: none */
        }
    }
    return p;
}

/* Whether x lies in d's range; otherwise an INVALID_ARG naming it. */
static int in_range(const param_def *d, double x, casie_error *err) {
    if (d->kind == P_U64 || d->kind == P_FILE || d->kind == P_TEXT) return CASIE_OK;
    int ok = ((d->open & 1) ? x > d->lo : x >= d->lo) && ((d->open & 2) ? x < d->hi : x <= d->hi);
    if (ok) return CASIE_OK;
    if (d->kind == P_INT)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s must be %g..%g, not %g", d->o.name, d->lo, d->hi, x);
    return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s must be in %c%g, %g%c, not %g", d->o.name,
                        (d->open & 1) ? '(' : '[', d->lo, d->hi, (d->open & 2) ? ')' : ']', x);
}

/* A number's value in p (0 for the others). */
static double value_of(const param_def *d, const casie_train_params *p) {
    const char *f = (const char *)p + d->off;
    return d->kind == P_INT ? *(const int *)(const void *)f : d->kind == P_FLOAT ? *(const float *)(const void *)f : 0;
}

int casie__train_params_check(const casie_train_params *p, casie_error *err) {
    for (int i = 0; i < N_PARAMS; i++) {
        int rc = in_range(&PARAMS[i], value_of(&PARAMS[i], p), err);
        if (rc) return rc;
    }
    return CASIE_OK;
}

int casie__train_params_changed(const casie_train_params *p, json_t *o) {
    for (int i = 0; i < N_PARAMS; i++) {
        const param_def *d = &PARAMS[i];
        double x = value_of(d, p);
        if (!d->meta || (d->kind == P_INT && (int)x == (int)d->o.dflt) ||
            (d->kind == P_FLOAT && (float)x == (float)d->o.dflt))
            continue;
        json_t *v = d->kind == P_INT ? json_integer((json_int_t)x) : json_real(x);
        if (json_object_set_new(o, d->o.name, v)) return -1;
    }
    return 0;
}

int casie_train_param_set(casie_train_params *p, const char *name, const char *value, casie_error *err) {
    if (!p || !name || !value)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_train_param_set: no parameter");
    const param_def *d = NULL;
    for (int i = 0; i < N_PARAMS && !d; i++)
        if (!strcmp(PARAMS[i].o.name, name)) d = &PARAMS[i];
    if (!d) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "no training parameter named %s", name);
    char *f = (char *)p + d->off, *end;
    errno = 0;
    if (d->kind == P_FILE || d->kind == P_TEXT) {
        *(const char **)(void *)f = value; /* borrowed, as every path in the parameters */
    } else if (d->kind == P_FLOAT) {
        double x = strtod(value, &end);
        if (errno || *end || !*value || !isfinite(x))
            return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s takes a number, not '%s'", name, value);
        int rc = in_range(d, x, err);
        if (rc) return rc;
        *(float *)(void *)f = (float)x;
    } else {
        unsigned long long x = strtoull(value, &end, 10);
        if (errno || *end || !*value || value[0] == '-' || value[0] == '+' || value[0] == ' ')
            return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s takes a non-negative integer, not '%s'", name,
                                value);
        if (d->kind == P_U64) {
            *(uint64_t *)(void *)f = x;
        } else {
            int rc = in_range(d, x > 1u << 30 ? 1e30 : (double)x, err);
            if (rc) return rc;
            *(int *)(void *)f = (int)x;
        }
    }
    return CASIE_OK;
}
