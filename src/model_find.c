/*
 * model_find.c - models by name: "fast", "accurate", or the default.
 *
 * casie ships two models: models/casie-fast.model (word vectors and
 * networks trained on the corpus alone) and models/casie-accurate.model
 * (the same networks over a pretrained transformer encoder, which must be
 * installed beside it: scripts/fetch_encoder.sh).  A name is looked for in
 * the caller's folders (the CLI and the Python package add $CASIE_MODEL_DIR;
 * the library reads no environment), then the folder casie was installed
 * with (CASIE_DATADIR), then ./models; anything that is not a name
 * is a path.  The default is the accurate model when it loads (its encoder
 * found and the very one it was trained with), else the fast one.
 *
 * Not here: loading itself (model.c), finding the encoder (xvec.c).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#ifndef CASIE_DATADIR
#define CASIE_DATADIR "/usr/local/share/casie"
#endif

/* dir/casie-NAME.model into path when that is a file. */
static int in_dir(const char *dir, const char *name, char *path, size_t path_len) {
    return dir && (size_t)snprintf(path, path_len, "%s/casie-%s.model", dir, name) < path_len && casie__is_file(path);
}

int casie_model_find(const char *name, const char *const *dirs, char *path, size_t path_len) {
    if (!name || !path || path_len == 0) return CASIE_ERR_INVALID_ARG;
    if (strcmp(name, "fast") != 0 && strcmp(name, "accurate") != 0) { /* a path */
        if ((size_t)snprintf(path, path_len, "%s", name) >= path_len) return CASIE_ERR_LIMIT;
        return CASIE_OK;
    }
    for (int i = 0; dirs && dirs[i]; i++)
        if (in_dir(dirs[i], name, path, path_len)) return CASIE_OK;
    const char *const builtin[] = {CASIE_DATADIR, "models"};
    for (int i = 0; i < 2; i++)
        if (in_dir(builtin[i], name, path, path_len)) return CASIE_OK;
    snprintf(path, path_len, "casie-%s.model", name);
    return CASIE_ERR_IO;
}

casie_model *casie_model_open(const char *name, const char *const *dirs, casie_error *err) {
    casie_model_load_params p = casie_model_default_load_params();
    p.dirs = dirs;
    return casie_model_open_with(name, &p, err);
}

casie_model *casie_model_open_with(const char *name, const casie_model_load_params *params, casie_error *err) {
    const casie_model_load_params defaults = casie_model_default_load_params();
    if (!params) params = &defaults;
    const char *const *dirs = params->dirs;
    char path[4096];
    if (name && !*name) /* an empty name is a mistake (an unset variable), not a wish for the default */
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1,
                            "an empty model name (fast, accurate, a path, or NULL or \"default\" for the default)"),
               NULL;
    int dflt = !name || strcmp(name, "default") == 0;
    if (!dflt) {
        int rc = casie_model_find(name, dirs, path, sizeof path);
        if (rc == CASIE_ERR_IO) {
            casie__error(err, rc, -1, "no %s model (casie-%s.model) in the model folders", name, name);
            return NULL;
        }
        if (rc) {
            casie__error(err, rc, -1, "model path too long");
            return NULL;
        }
        return casie_model_load_with(path, params, err);
    }
    casie_error why = {0};
    casie_model *m = NULL;
    if (casie_model_find("accurate", dirs, path, sizeof path) == CASIE_OK) {
        if ((m = casie_model_load_with(path, params, &why))) {
            if (err) memset(err, 0, sizeof *err);
            return m;
        }
    } else {
        casie__error(&why, CASIE_ERR_IO, -1, "no accurate model installed");
    }
    if (casie_model_find("fast", dirs, path, sizeof path)) {
        casie__error(err, CASIE_ERR_IO, -1, "no model found: neither casie-accurate.model (%s) nor casie-fast.model",
                     why.message);
        return NULL;
    }
    if (!(m = casie_model_load_with(path, params, err))) return NULL;
    if (err) { /* success, with a note on why the fast model */
        memset(err, 0, sizeof *err);
        snprintf(err->message, sizeof err->message, "using the fast model: %.200s", why.message);
    }
    return m;
}
