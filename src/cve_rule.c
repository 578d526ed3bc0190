/*
 * cve_rule.c - the rule that makes each CVE id of a sentence the CVE
 * argument of the vulnerability events that talk about it.
 *
 * In the corpus every CVE id in an article about a vulnerability is a CVE
 * argument (101 of 101 mentions in the train split), but the taggers find
 * only about half of them: a CVE id is rare, so its token's features carry
 * little weight.  The tokenizer flags each id (CASIE_TOK_CVE, through
 * casie__cve_len in cve_id.c), and after the argument tagger this rule gives
 * the flagged token the CVE role in the vulnerability event of its sentence
 * one of whose Vulnerability arguments names it, else in the nearest
 * vulnerability event of its sentence, or, when its sentence has none, in
 * the nearest one within two sentences, of either subtype.  The argument
 * keeps the text as written; the STIX writer names the vulnerability by the
 * normal form.
 *
 * Not here: the tokenizer (tokenize.c), the taggers (extract.c).
 */
#include "internal.h"
#include "cve_rule.h"
#include "doc.h"
#include "tagging.h"

#include <stdio.h>
#include <string.h>

static int is_vuln(const casie_event *e) {
    return e->subtype == CASIE_SUBTYPE_DISCOVER_VULNERABILITY || e->subtype == CASIE_SUBTYPE_PATCH_VULNERABILITY;
}

/* A vulnerability event the rule may give an id to: one scoring at least
 * threshold, or one without a score (a given trigger, not a found one). */
static int takes_ids(const casie_event *e, float threshold) {
    return is_vuln(e) && (e->score < 0 || e->score >= threshold);
}

/* Arguments never overlap within an event, and a CVE id is an argument of
 * its own: an argument of ev that holds the CVE token t and more keeps only
 * its part after the id, or, when the id ends it, its part before ("the
 * CVE-2018-0950 patch" -> "patch", "the library (CVE-2018-8115" -> "the
 * library"), without the punctuation next to the id.  Returns 1 when the
 * token is (now) ev's CVE argument or its trigger, 0 when ev has no argument
 * on it (the caller adds one), < 0 on error. */
static int make_room(const casie_doc *doc, casie_event *ev, int32_t t, int cve_role, int cve_ent) {
    const casie_token *tok = &doc->tokens[t];
    if (ev->start < tok->end && ev->end > tok->start) return 1;
    for (int k = 0; k < ev->n_args; k++) {
        casie_arg *a = &ev->args[k];
        if (a->end <= tok->start || a->start >= tok->end) continue;
        int ab, ae;
        if (!casie__span_tokens(doc, a->start, a->end, &ab, &ae) || ab > t || ae <= t) return 1;
        int nb = t + 1, ne = ae;       /* the part after the id */
        if (nb >= ae) nb = ab, ne = t; /* the id ends it: the part before */
        while (nb < ne && (doc->tokens[nb].flags & CASIE_TOK_PUNCT))
            nb++;
        while (ne > nb && (doc->tokens[ne - 1].flags & CASIE_TOK_PUNCT))
            ne--;
        if (nb == ne) { /* nothing but the id: it becomes the CVE argument */
            nb = t, ne = t + 1;
            a->role = cve_role, a->entity = cve_ent;
        }
        int32_t s = doc->tokens[nb].start, e = doc->tokens[ne - 1].end;
        if (s != a->start || e != a->end) {
            char *txt = casie__doc_substr(doc, s, e);
            if (!txt) return CASIE_ERR_NOMEM;
            free(a->text);
            a->text = txt, a->start = s, a->end = e;
        }
        if (a->role == cve_role && a->start == tok->start) {
            if (a->score < ev->score) a->score = ev->score; /* the rule vouches for it as for its event */
            return 1;
        }
        return 0;
    }
    return 0;
}

static int add_arg(const casie_doc *doc, casie_event *ev, int32_t s, int32_t e, int role, int ent) {
    casie_arg *na = realloc(ev->args, sizeof(casie_arg) * ((size_t)ev->n_args + 1));
    if (!na) return CASIE_ERR_NOMEM;
    ev->args = na;
    casie_arg *a = &ev->args[ev->n_args];
    memset(a, 0, sizeof *a);
    if (!(a->text = casie__doc_substr(doc, s, e))) return CASIE_ERR_NOMEM;
    a->start = s, a->end = e, a->role = role, a->entity = ent;
    /* the rule is as sure of the argument as the tagger is of the event */
    a->score = ev->score;
    ev->n_args++;
    return CASIE_OK;
}

/* The sentence of ev's first token, or -1. */
static int event_sent(const casie_doc *doc, const casie_event *ev) {
    int tb, te;
    return casie__span_tokens(doc, ev->start, ev->end, &tb, &te) ? doc->tokens[tb].sent : -1;
}

/* The first of ev (in document order) starting at or after from; n_ev if none. */
static int first_event_from(const casie_event *ev, int n_ev, int32_t from) {
    int a = 0, b = n_ev;
    while (a < b) {
        int mid = a + (b - a) / 2;
        if (ev[mid].start < from)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* The vulnerability event taking ids (takes_ids) nearest to token t
 * (code points between them) among those whose trigger's sentence is within
 * [lo, hi] sentences of t's; -1 if none.
 * ev is in document order, so only the events starting within hi sentences
 * of t's are looked at. */
static int nearest_event(const casie_doc *doc, const casie_event *ev, int n_ev, float threshold, int32_t t, int lo,
                         int hi) {
    const casie_token *tok = &doc->tokens[t];
    int first = tok->sent - hi > 0 ? tok->sent - hi : 0,
        last = tok->sent + hi < doc->n_sents ? tok->sent + hi : doc->n_sents - 1;
    int32_t from = doc->sents[first].start, to = doc->sents[last].end;
    int best = -1;
    int32_t best_d = INT32_MAX;
    for (int k = first_event_from(ev, n_ev, from); k < n_ev && ev[k].start < to; k++) {
        if (!takes_ids(&ev[k], threshold)) continue;
        int s = event_sent(doc, &ev[k]);
        int gap = s > tok->sent ? s - tok->sent : tok->sent - s;
        if (s < 0 || gap < lo || gap > hi) continue;
        int32_t d = ev[k].start > tok->start ? ev[k].start - tok->start : tok->start - ev[k].end;
        if (d < best_d) best_d = d, best = k;
    }
    return best;
}

/* The vulnerability event taking ids (takes_ids), in token t's
 * sentence, one of whose Vulnerability arguments holds t or lies next to it
 * (no more than one punctuation token between): "critical bug CVE-2018-0171"
 * names the bug that event is about, whichever trigger is nearer.  -1 if
 * none.  On the training split's gold events this picks the owner of every
 * id it applies to.  Like nearest_event, it looks only at the events that
 * start in that sentence. */
static int named_event(const casie_doc *doc, const casie_event *ev, int n_ev, float threshold, int32_t t,
                       int vuln_role) {
    const casie_token *tok = &doc->tokens[t];
    const casie_sentence *s = &doc->sents[tok->sent];
    for (int k = first_event_from(ev, n_ev, s->start); k < n_ev && ev[k].start < s->end; k++) {
        if (!takes_ids(&ev[k], threshold) || event_sent(doc, &ev[k]) != tok->sent) continue;
        for (int i = 0; i < ev[k].n_args; i++) {
            int ab, ae;
            if (ev[k].args[i].role != vuln_role ||
                !casie__span_tokens(doc, ev[k].args[i].start, ev[k].args[i].end, &ab, &ae))
                continue;
            if (ab < s->tok_begin || ae > s->tok_end) continue;
            int before = ae == t || (ae == t - 1 && (doc->tokens[t - 1].flags & CASIE_TOK_PUNCT));
            int after = ab == t + 1 || (ab == t + 2 && (doc->tokens[t + 1].flags & CASIE_TOK_PUNCT));
            if ((ab <= t && t < ae) || before || after) return k;
        }
    }
    return -1;
}

/* A CVE argument is a CVE id: one the tagger gave around an id shrinks to
 * it ("(CVE-2017-5521)"), one with no id in it ("SA-CORE-2018-004") goes. */
static int only_ids(const casie_doc *doc, casie_event *ev, int cve_role) {
    int kept = 0;
    for (int i = 0; i < ev->n_args; i++) {
        casie_arg *a = &ev->args[i];
        int b, e, id = -1;
        if (a->role == cve_role && casie__span_tokens(doc, a->start, a->end, &b, &e))
            for (int k = b; k < e && id < 0; k++)
                if (doc->tokens[k].flags & CASIE_TOK_CVE) id = k;
        if (a->role == cve_role && id < 0) {
            casie__arg_free(a);
            continue;
        }
        if (a->role == cve_role && (a->start != doc->tokens[id].start || a->end != doc->tokens[id].end)) {
            char *txt = casie__doc_substr(doc, doc->tokens[id].start, doc->tokens[id].end);
            if (!txt) return CASIE_ERR_NOMEM;
            free(a->text);
            a->text = txt, a->start = doc->tokens[id].start, a->end = doc->tokens[id].end;
        }
        ev->args[kept++] = *a;
    }
    ev->n_args = kept;
    return CASIE_OK;
}

int casie__cve_args(const casie_doc *doc, casie_event *ev, int n_ev, float threshold) {
    const int cve_role = casie_role_from_name("CVE"), cve_ent = casie_entity_from_name("CVE"),
              vuln_role = casie_role_from_name("Vulnerability");
    for (int k = 0; k < n_ev; k++) {
        int rc = only_ids(doc, &ev[k], cve_role);
        if (rc) return rc;
    }
    for (int32_t t = 0; t < doc->n_tokens; t++) {
        if (!(doc->tokens[t].flags & CASIE_TOK_CVE)) continue;
        /* the event whose Vulnerability argument the id names; else the
         * nearest vulnerability event of the id's sentence; failing one,
         * the nearest within two sentences, of either subtype */
        int k = named_event(doc, ev, n_ev, threshold, t, vuln_role);
        if (k < 0) k = nearest_event(doc, ev, n_ev, threshold, t, 0, 0);
        if (k < 0) k = nearest_event(doc, ev, n_ev, threshold, t, 1, 2);
        if (k < 0) continue;
        int rc = make_room(doc, &ev[k], t, cve_role, cve_ent);
        if (rc == 0) rc = add_arg(doc, &ev[k], doc->tokens[t].start, doc->tokens[t].end, cve_role, cve_ent);
        if (rc < 0) return rc;
    }
    return CASIE_OK;
}
