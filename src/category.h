/*
 * category.h - argument categories: names, the classifier, its scores.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_CATEGORY_H
#define CASIE_CATEGORY_H

#include "internal.h"
#include "feats.h"
#include "model_file.h"

/* ---- argument categories (category_names.c, category.c) ---- */
struct json_t;
/* The index of a's category in its kind's table, or -1 (none or unknown). */
int casie__arg_category(const casie_arg *a);
/* The role object's key of a kind's category: "subtype", "CAPEC-Meta", or NULL. */
const char *casie__category_key(int kind);
/* Sets a->category (and category_score) from the role object of an argument
 * of role a->role when it names a known category, and deletes the fields it
 * took (the category and its "confidence") from the object. */
void casie__role_category_read(struct json_t *role, casie_arg *a);
/* The classifier (category.c): the CATG section of a model file. */
typedef struct casie__category casie__category;
struct casie__tokfeat;
void casie__category_free(casie__category *c);
/* Its section's bytes (valid while c lives). */
void casie__category_bytes(const casie__category *c, const void **data, size_t *size);
/* Reads a CATG section s of m's file into m->cat (a file without one leaves
 * m->cat NULL: the model predicts no categories); m's EMBD is read first. */
struct casie__section;
int casie__category_load(casie_model *m, const struct casie__section *s, const char *path, casie_error *err);
/* Sets the category of every argument of doc whose role has a kind (NULL
 * for the others); does nothing when m has no classifier. */
int casie__category_predict(const casie_model *m, casie_doc *doc, const struct casie__tokfeat *tf);
/* Trains a classifier over m's token features on docs' gold categories. */
int casie__category_train(const casie_model *m, casie_doc *const *docs, int n_docs, const casie_train_params *p,
                          casie__category **out, casie_error *err);
/* casie__category_train into m->cat (replacing one), then logs its accuracy
 * on the gold arguments of dev (may be NULL/0). */
int casie__category_attach(casie_model *m, casie_doc *const *train, int n_train, casie_doc *const *dev, int n_dev,
                           const casie_train_params *p, casie_error *err);

#endif /* CASIE_CATEGORY_H */
