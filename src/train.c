/*
 * train.c - training a model: every stage learnt from annotated documents,
 * then tuned on dev documents.
 *
 * Each stage has a sparse half, averaged perceptrons over hashed features
 * (train_perc.c), and a neural half, BiLSTM-CRF networks over token vectors
 * (train_nn.c): triggers (BIO sequence over subtypes), arguments (BIO
 * sequence over the role slots of the gold trigger's subtype) with realis;
 * then entity types, realis and coreference pairs (perceptrons).  Each is
 * trained on gold input, the triggers on a thread of their own.  With dev
 * documents, every network keeps its best epoch on them (train_dev.c), and
 * the mixes, biases and thresholds of decoding are tuned on them
 * (train_tune.c).  This file runs the pipeline and writes the metadata.
 *
 * Not here: the parameters (train_params.c), what is learnt from
 * (train_gold.c), word clusters and vectors (word_vectors.c), the model
 * object and file (model.c), decoding (extract.c).
 */
#include "train.h"
#include "category.h"
#include "feats.h"
#include "hash.h"
#include "linear.h"
#include "model.h"
#include "nn.h"
#include "train_params.h"
#include "xvec.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static uint64_t corpus_hash(casie_doc *const *docs, int n) {
    uint64_t h = 0x1234;
    for (int d = 0; d < n; d++) {
        const casie_doc *doc = docs[d];
        h = casie__hc(h, casie__hash_bytes(doc->id ? doc->id : "", doc->id ? strlen(doc->id) : 0, 1));
        h = casie__hc(h, casie__hash_bytes(doc->text, doc->text_len, 2));
        for (int k = 0; k < doc->n_hoppers; k++)
            for (int i = 0; i < doc->hoppers[k].n_events; i++) {
                const casie_event *ev = &doc->hoppers[k].events[i];
                h = casie__hc(h, (uint64_t)ev->start << 32 | (uint64_t)ev->end);
                h = casie__hc(h, (uint64_t)(ev->subtype * 16 + ev->realis) << 8 | (uint64_t)k);
                for (int a = 0; a < ev->n_args; a++)
                    h = casie__hc(h, ((uint64_t)ev->args[a].start << 32 | (uint64_t)ev->args[a].end) ^
                                         (uint64_t)(ev->args[a].role * 32 + ev->args[a].entity) << 56);
            }
    }
    return h;
}

/* The model's metadata, a JSON object text built with jansson (every string
 * escaped: the corpus tag names split files, which may hold any character);
 * reals print as %g would, the tuned values rounded to hundredths; a seed
 * over INT64_MAX, which a JSON integer here cannot hold, is a string of its
 * digits.  NULL when out of memory. */
static char *train_metadata(const casie_train_params *p, const casie_model *m, casie_doc *const *train, int n_train,
                            casie_doc *const *dev, int n_dev) {
    char th[17], dh[17], digits[24], *tag = NULL;
    size_t tag_len;
    int32_t *cpb = NULL, ncp;
    const char *t = p->corpus_tag ? p->corpus_tag : "";
    if (casie__utf8_normalize(t, strlen(t), &tag, &tag_len, &cpb, &ncp)) return NULL; /* jansson takes UTF-8 only */
    free(cpb);
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)p->seed);
    json_t *seed = p->seed <= INT64_MAX ? json_integer((json_int_t)p->seed) : json_string(digits);
    snprintf(th, sizeof th, "%016llx", (unsigned long long)corpus_hash(train, n_train));
    snprintf(dh, sizeof dh, "%016llx", (unsigned long long)(dev && n_dev > 0 ? corpus_hash(dev, n_dev) : 0));
    const struct {
        const char *key;
        float v;
    } tuned[] = {{"trig_bias", m->trig_bias},         {"arg_bias", m->arg_bias}, {"coref_bias", m->coref_bias},
                 {"coref_generic", m->coref_generic}, {"trig_mix", m->trig_mix}, {"arg_mix", m->arg_mix},
                 {"realis_mix", m->realis_mix}};
    json_t *o = json_pack(
        "{s:s, s:o, s:i, s:i, s:i, s:s, s:s, s:s, s:b, s:b, s:I, s:i, s:i, s:f, s:f, s:i, s:i, s:i}", "casie_version",
        CASIE_VERSION_STRING, "seed", seed, "epochs", p->epochs, "n_train", n_train, "n_dev", n_dev, "train_hash", th,
        "dev_hash", dh, "corpus", tag, "clusters", p->clusters != NULL, "embeddings", p->embeddings != NULL,
        "emb_words", (json_int_t)m->emb.n_words, "hidden", p->hidden, "head", p->head, "lr", (double)p->lr, "dropout",
        (double)p->dropout, "arg_nets", p->arg_nets, "trig_nets", p->trig_nets, "threads", p->threads);
    int bad = !o;
    for (size_t i = 0; i < sizeof tuned / sizeof tuned[0] && !bad; i++)
        bad = json_object_set_new(o, tuned[i].key, json_real(round((double)tuned[i].v * 100) / 100)) != 0;
    /* how to make it again: the features, and the command and commit when given */
    if (!bad) bad = json_object_set_new(o, "feature_version", json_integer(p->feature_version)) != 0;
    if (!bad && p->recipe) bad = json_object_set_new(o, "recipe", json_string(p->recipe)) != 0;
    if (!bad && p->commit) bad = json_object_set_new(o, "commit", json_string(p->commit)) != 0;
    if (!bad) bad = casie__train_params_changed(p, o) != 0; /* each learner's numbers, when not the defaults */
    if (!bad)
        bad = json_object_set_new(o, "rows",
                                  json_pack("{s:I, s:I, s:I, s:I, s:I}", "trig", (json_int_t)m->trig.n_rows, "arg",
                                            (json_int_t)m->arg.n_rows, "ent", (json_int_t)m->ent.n_rows, "realis",
                                            (json_int_t)m->realis.n_rows, "coref", (json_int_t)m->coref.n_rows)) != 0;
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    free(tag);
    return text;
}

static int train_triggers(trainer *t) {
    int rc = casie__train_triggers_perc(t);
    return rc ? rc : casie__train_trigger_nets(t);
}

/* Arguments: the perceptron, the classifiers (entity types, realis and
 * coreference, which the networks' dev checks use), then the networks. */
static int train_arguments(trainer *t) {
    int rc = casie__train_args_perc(t);
    if (!rc) rc = casie__train_classifiers(t);
    return rc ? rc : casie__train_argument_nets(t);
}

static void *trig_thread(void *arg) {
    trainer *t = arg;
    t->rc = train_triggers(t);
    return NULL;
}

/* Trains every stage of t->m once (triggers on a second thread when allowed). */
static int train_run(trainer *t) {
    int rc;
    if (t->p->threads >= 2) {
        trainer t2 = *t;
        pthread_t th;
        if (pthread_create(&th, NULL, trig_thread, &t2)) {
            rc = train_triggers(t);
            if (!rc) rc = train_arguments(t);
        } else {
            rc = train_arguments(t);
            pthread_join(th, NULL);
            if (!rc && t2.rc) {
                rc = t2.rc;
                t->err = t2.err;
            }
        }
    } else {
        rc = train_triggers(t);
        if (!rc) rc = train_arguments(t);
    }
    return rc;
}

casie_model *casie_train(casie_doc *const *train, int n_train, casie_doc *const *dev, int n_dev,
                         const casie_train_params *params, casie_error *err) {
    casie_train_params p = params ? *params : casie_train_default_params();
    casie_model *m = NULL;
    trainer t = {0};
    casie__xcache xc = {0};
    casie_doc **all = NULL;
    if (!train || n_train <= 0) {
        casie__error(err, CASIE_ERR_EMPTY, -1, "no training documents");
        return NULL;
    }
    if (casie__train_params_check(&p, err)) return NULL;
    if (casie__model_alloc(&m, 1)) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory allocating the model");
        return NULL;
    }
    for (int i = 0; i < CASIE__N_LIN; i++) /* the features every linear model reads, as asked */
        m->lin[i].fv = (uint32_t)p.feature_version;
    t.m = m;
    t.docs = train;
    t.n_docs = n_train;
    t.dev = dev;
    t.n_dev = dev ? n_dev : 0;
    t.p = &p;
    clock_gettime(CLOCK_MONOTONIC, &t.t0);
    if (p.clusters && casie__clusters_load(m, p.clusters, p.embeddings, p.emb_words, err)) goto fail;
    if (p.encoder) { /* its layers as every network's extra inputs */
        casie_encoder *enc = casie_encoder_load(p.encoder, err);
        casie__xspec xs;
        if (!enc) goto fail;
        casie__xspec_default(&xs, enc, p.encoder);
        if (casie__xspec_layers(&xs, p.enc_first, p.enc_last, err) || casie__xvec_use(m, enc, &xs, err)) {
            casie_encoder_free(enc);
            goto fail;
        }
    }
    { /* each stage's network, and its second when asked for, from other seeds */
        const int D0 = casie__tokvec_dim(&m->emb) + m->xdim, H = p.hidden;
        const struct {
            int which, wanted;
            uint64_t seed;
        } nets[] = {{CASIE__NET_TRIG, 1, p.seed},
                    {CASIE__NET_ARG, 1, p.seed + 1},
                    {CASIE__NET_ARG2, p.arg_nets > 1, p.seed + 1000003},
                    {CASIE__NET_TRIG2, p.trig_nets > 1, p.seed + 2000003}};
        for (int i = 0; i < (int)(sizeof nets / sizeof nets[0]); i++) {
            const int arg = CASIE__NET_IS_ARG(nets[i].which);
            if (nets[i].wanted &&
                casie__nnet_init(&m->nets[nets[i].which], D0 + (arg ? CASIE_ARGVEC_REL : 0), H, (arg ? 4 : 2) * H,
                                 p.head, arg ? CASIE_ARG_LABELS : CASIE_TRIG_LABELS, arg ? CASIE_N_REALIS : 0,
                                 nets[i].seed))
                goto nomem;
        }
    }
    t.tf = calloc((size_t)n_train, sizeof *t.tf);
    if (!t.tf) goto nomem;
    long ntok = 0, nev = 0;
    for (int d = 0; d < n_train; d++) {
        if (casie_doc_analyze(train[d], err)) goto fail;
        if (!(t.tf[d] = casie__doc_tokfeats(train[d], &m->clusters))) goto nomem;
        ntok += train[d]->n_tokens;
        for (int h = 0; h < train[d]->n_hoppers; h++)
            nev += train[d]->hoppers[h].n_events;
    }
    casie__train_log(&t, "training on %d documents, %ld tokens, %ld events; %u clustered words", n_train, ntok, nev,
                     m->clusters.n_slots ? m->clusters.n_slots / 2 : 0);
    if (m->xdim > 0) { /* the encoder runs once over the training and tuning documents */
        int n_all = n_train + t.n_dev;
        all = malloc(sizeof(casie_doc *) * (size_t)n_all);
        if (!all) goto nomem;
        memcpy(all, train, sizeof(casie_doc *) * (size_t)n_train);
        for (int d = 0; d < t.n_dev; d++) {
            if (casie_doc_analyze(dev[d], err)) goto fail;
            all[n_train + d] = dev[d];
        }
        if (casie__xcache_fill(&xc, m, all, n_all, p.threads, err)) goto fail;
        m->xcache = &xc;
        t.xv = xc.v;
        casie__train_log(&t, "encoder %s: %d layers x %d, vectors of %d documents", m->xs.enc_file, m->xs.enc_layers,
                         m->xdim, n_all);
    }
    casie__choose_slots(&t);
    int rc = train_run(&t);
    if (rc && t.err.code) { /* a failure with its own message: a dev document that cannot be scored, ... */
        if (err) *err = t.err;
        goto fail;
    }
    if (rc) goto nomem;
    /* predictions of this model and of its saved file are the same */
    for (int i = 0; i < CASIE__N_LIN; i++)
        casie__linear_round_bf16(&m->lin[i]);
    if (dev && n_dev > 0 && (rc = casie__tune(&t, dev, n_dev, err))) goto fail;
    /* argument categories (category.c), when the documents have any */
    if ((rc = casie__category_attach(m, train, n_train, NULL, 0, &p, err)) == CASIE_ERR_EMPTY) {
        rc = CASIE_OK; /* none to learn from: the model predicts none */
        if (err) *err = (casie_error){0};
    }
    if (rc) goto fail;
    if (!(m->meta = train_metadata(&p, m, train, n_train, dev, n_dev))) goto nomem;
    casie__train_log(&t, "training done");
    for (int d = 0; d < n_train; d++)
        free(t.tf[d]);
    free(t.tf);
    m->xcache = NULL;
    casie__xcache_free(&xc);
    free(all);
    return m;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory while training");
fail:
    if (t.tf)
        for (int d = 0; d < n_train; d++)
            free(t.tf[d]);
    free(t.tf);
    casie__xcache_free(&xc);
    free(all);
    casie_model_free(m);
    return NULL;
}
