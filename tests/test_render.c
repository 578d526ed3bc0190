/*
 * test_render.c - `casie render`: the page holds one highlighted element set
 * per distinct span of the JSON, escapes the article, and renders in headless
 * Chromium (the DOM Chromium builds has the same spans; a screenshot is taken);
 * every element the filters act on carries what the script reads, and the
 * script, driven in Chromium (tests/render/filters.js), shows and hides the
 * rows, cards, highlights and contents entries it should.
 */
#include "cli_common.h"

/* Distinct (kind, start, end) of the elements with data-span in html,
 * counted per document section and summed. */
static int count_page_spans(const char *html) {
    int n = 0, total = 0, cap = 256;
    long(*seen)[3] = malloc(sizeof *seen * (size_t)cap);
    assert_non_null(seen);
    const char *next_doc = strstr(html, "<section");
    for (const char *p = html; (p = strstr(p, "data-span=\"")); p++) {
        while (next_doc && next_doc < p) { /* a new document: its spans are its own */
            total += n, n = 0;
            next_doc = strstr(next_doc + 1, "<section");
        }
        long kind = p[11] == 't', s, e;
        const char *q = strstr(p, "data-start=\"");
        assert_non_null(q);
        s = strtol(q + 12, NULL, 10);
        q = strstr(q, "data-end=\"");
        assert_non_null(q);
        e = strtol(q + 10, NULL, 10);
        int dup = 0;
        for (int i = 0; i < n && !dup; i++)
            dup = seen[i][0] == kind && seen[i][1] == s && seen[i][2] == e;
        if (dup) continue;
        if (n == cap) assert_non_null(seen = realloc(seen, sizeof *seen * (size_t)(cap *= 2)));
        seen[n][0] = kind, seen[n][1] = s, seen[n][2] = e;
        n++;
    }
    free(seen);
    return total + n;
}

static int count_doc_spans(const char *json, size_t len, const char *name) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(json, len, name, &err);
    assert_non_null(d);
    int32_t(*v)[3] = malloc(sizeof *v * 4096);
    assert_non_null(v);
    int n = 0;
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            for (int a = -1; a < e->n_args; a++) {
                int32_t k = a < 0, s = a < 0 ? e->start : e->args[a].start, t = a < 0 ? e->end : e->args[a].end;
                int dup = 0;
                for (int j = 0; j < n && !dup; j++)
                    dup = v[j][0] == k && v[j][1] == s && v[j][2] == t;
                if (!dup && n < 4096) v[n][0] = k, v[n][1] = s, v[n][2] = t, n++;
            }
        }
    free(v);
    casie_doc_free(d);
    return n;
}

/* Distinct trigger spans plus distinct argument spans of each document of a
 * JSON file (one document) or a JSONL file (one per line). */
static int count_json_spans(const char *path) {
    char *buf = cli_slurp(path);
    int total = 0;
    if (!strstr(buf, "}\n{")) {
        total = count_doc_spans(buf, strlen(buf), path);
    } else {
        for (char *line = buf; *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            if (len) total += count_doc_spans(line, len, path);
            if (!nl) break;
            line = nl + 1;
        }
    }
    free(buf);
    return total;
}

static void render_counts(const char *json, int *want, int *got, char *html_path, size_t n) {
    char args[1024], *out, *err;
    snprintf(html_path, n, "%s.html", json);
    snprintf(args, sizeof args, "render -o %s %s", html_path, json);
    assert_int_equal(cli_run(args, &out, &err), 0);
    free(out), free(err);
    char *html = cli_slurp(html_path);
    *got = count_page_spans(html);
    *want = count_json_spans(json);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_null(strstr(html, "http-equiv=\"refresh\""));
    assert_int_equal(cli_count(html, "<script"), 1); /* the filters' inline script only */
    assert_null(strstr(html, "<script src"));
    assert_null(strstr(html, "src=\"http")); /* no network */
    assert_null(strstr(html, "href=\"http"));
    free(html);
}

static void sample_spans_match_json(void **state) {
    (void)state;
    char args[512], *out, *err, json[256], html[300];
    snprintf(json, sizeof json, "%s/sample.json", cli_tmpdir);
    snprintf(args, sizeof args, "extract -o %s examples/sample-article.txt && mv %s/sample-article.json %s", cli_tmpdir,
             cli_tmpdir, json);
    assert_int_equal(cli_run(args, &out, &err), 0);
    free(out), free(err);
    int want, got;
    render_counts(json, &want, &got, html, sizeof html);
    assert_true(want > 10);
    assert_int_equal(got, want);
}

static void article_text_is_escaped(void **state) {
    (void)state;
    const char *doc =
        "{\"content\": \"<script>alert(1)</script> Hackers stole the data & \\\"more\\\".\", "
        "\"sourcefile\": \"x.txt\", \"cyberevent\": {\"hopper\": [{\"index\": 0, \"relation\": \"Same\", "
        "\"events\": [{\"index\": \"E1\", \"type\": \"Attack\", \"subtype\": \"Databreach\", \"realis\": "
        "\"Actual\", \"nugget\": {\"index\": \"T1\", \"startOffset\": 34, \"endOffset\": 39, \"text\": "
        "\"stole\"}, \"argument\": [{\"index\": \"T2\", \"startOffset\": 26, \"endOffset\": 33, \"text\": "
        "\"Hackers\", \"type\": \"Person\", \"role\": {\"type\": \"Attacker\"}}]}]}]}}";
    const char *path = cli_write("xss.json", doc);
    char args[512], *out, *err;
    snprintf(args, sizeof args, "render %s", path);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_int_equal(cli_count(out, "<script>"), 1); /* the page's own, not the article's */
    assert_non_null(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(out, "&amp; &quot;more&quot;"));
    assert_int_equal(count_page_spans(out), 2);
    assert_non_null(strstr(out, "title=\"Attacker of Databreach &quot;stole&quot;: Person\""));
    free(out), free(err);
    /* a bad input names the file and fails */
    const char *bad = cli_write("bad.json", "{\"content\": 5}");
    snprintf(args, sizeof args, "render %s", bad);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "bad.json"));
    free(out), free(err);
}

/* A document of n_args argument spans over "x" x len, the i-th (from 1)
 * [i, end(i)), without texts (offsets alone give them); returns its size. */
static size_t write_spans(const char *path, int len, int n_args, int nested, int width) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "{\"id\":\"spans\",\"text\":\"");
    for (int i = 0; i < len; i++)
        fputc('x', f);
    fprintf(f, "\",\"cyberevent\":{\"hopper\":[{\"events\":[{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":0,"
               "\"endOffset\":1},\"argument\":[");
    for (int i = 1; i <= n_args; i++)
        fprintf(f, "%s{\"startOffset\":%d,\"endOffset\":%d,\"type\":\"Person\",\"role\":\"Victim\"}", i > 1 ? "," : "",
                i, nested ? len - i : i + width);
    fprintf(f, "]}]}]}}\n");
    long n = ftell(f);
    fclose(f);
    return (size_t)n;
}

/* Issue 15: 2,000 nested spans (155 KB of JSON) made 258 MB of HTML, every
 * piece of text wrapped in every span over it.  Now a span opens once,
 * reopens at most once per boundary, nests at most 4 deep (the rest listed
 * only), and spans' texts are shown cut: the page stays within a few times
 * the input. */
static void output_linear_in_spans(void **state) {
    (void)state;
    char json[256], args[1024], *out, *err;
    snprintf(json, sizeof json, "%s/nested.json", cli_tmpdir);
    size_t in = write_spans(json, 4002, 1999, 1, 0);
    snprintf(args, sizeof args, "render %s", json);
    assert_int_equal(cli_run(args, &out, &err), 0);
    size_t html = strlen(out);
    print_message("2,000 nested spans: %zu bytes of JSON, %zu of HTML\n", in, html);
    assert_true(html < 8 * in + 16384);
    assert_int_equal(cli_count(out, "<mark"), cli_count(out, "</mark>"));
    assert_int_equal(count_page_spans(out), 5); /* the trigger, then 4 deep */
    assert_non_null(strstr(out, "5 highlighted spans (1995 more not highlighted"));
    assert_int_equal(cli_count(out, "<td>Person</td>"), 1999); /* every span listed */
    assert_non_null(strstr(out, "x\u2026</td>"));              /* its text cut */
    free(out), free(err);
    /* crossing spans (each over the next three starts): each boundary closes
     * and reopens the others once */
    snprintf(json, sizeof json, "%s/crossing.json", cli_tmpdir);
    in = write_spans(json, 2010, 2000, 0, 4);
    snprintf(args, sizeof args, "render %s", json);
    assert_int_equal(cli_run(args, &out, &err), 0);
    html = strlen(out);
    print_message("2,000 crossing spans: %zu bytes of JSON, %zu of HTML\n", in, html);
    assert_true(html < 8 * in + 16384);
    assert_int_equal(cli_count(out, "<mark"), cli_count(out, "</mark>"));
    assert_int_equal(count_page_spans(out), 2001);
    assert_null(strstr(out, "not highlighted"));
    free(out), free(err);
}

/* Headless Chromium: its DOM has the same spans; a screenshot is written. */
static void in_chromium(void **state) {
    (void)state;
    const char *ci = getenv("CI");
    if (access("/usr/bin/chromium", X_OK) != 0) {
        if (ci && !strcmp(ci, "true")) fail_msg("chromium is not installed (scripts/setup.sh installs it)");
        skip();
    }
    char json[256], html[300], args[2048];
    snprintf(json, sizeof json, "%s/docs.jsonl", cli_tmpdir);
    const char *corpus = test_corpus();
    if (corpus) /* three dev articles and the sample, as JSONL */
        snprintf(args, sizeof args,
                 "extract %s/annotation/1101.json %s/annotation/1126.json %s/annotation/1138.json "
                 "examples/sample-article.txt > %s",
                 corpus, corpus, corpus, json);
    else
        snprintf(args, sizeof args, "extract examples/sample-article.txt examples/sample-article.txt > %s", json);
    char sh[4096];
    snprintf(sh, sizeof sh, "%s %s 2>/dev/null", cli_bin, args);
    int rc = system(sh);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    int want, got;
    render_counts(json, &want, &got, html, sizeof html);
    assert_true(want > 20);
    assert_int_equal(got, want);
    char dom[300], png[300], cmd[4096];
    snprintf(dom, sizeof dom, "%s/dom.html", cli_tmpdir);
    snprintf(png, sizeof png, "%s/page.png", cli_tmpdir);
    const char *flags = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                        "--disable-background-networking --disable-component-update --disable-sync";
    snprintf(cmd, sizeof cmd, "chromium %s --user-data-dir=%s/chr1 --dump-dom file://%s > %s 2>/dev/null", flags,
             cli_tmpdir, html, dom);
    rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    char *d = cli_slurp(dom);
    assert_int_equal(count_page_spans(d), want);
    free(d);
    snprintf(cmd, sizeof cmd,
             "chromium %s --user-data-dir=%s/chr2 --window-size=1200,1600 --screenshot=%s file://%s >/dev/null 2>&1",
             flags, cli_tmpdir, png, html);
    rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    FILE *f = fopen(png, "rb");
    assert_non_null(f);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, f), 8);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    fseek(f, 0, SEEK_END);
    assert_true(ftell(f) > 20000); /* a page with colour, not a blank one */
    fclose(f);
}

/* casie_doc_to_html: the CLI's page is HEAD, the section, TAIL; flags pick
 * the parts; an unknown flag is refused. */
static void library_html_parts(void **state) {
    (void)state;
    const char *doc = "{\"id\": \"h1\", \"text\": \"Hackers stole <data>.\"}";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(doc, strlen(doc), "h1", &err);
    assert_non_null(d);
    size_t lp, lh, ls, lt;
    char *page = casie_doc_to_html(d, CASIE_HTML_PAGE, &lp, &err);
    char *head = casie_doc_to_html(NULL, CASIE_HTML_HEAD, &lh, &err);
    char *sect = casie_doc_to_html(d, 0, &ls, &err);
    char *tail = casie_doc_to_html(NULL, CASIE_HTML_TAIL, &lt, &err);
    assert_true(page && head && sect && tail);
    assert_int_equal(lp, lh + ls + lt);
    assert_memory_equal(page, head, lh);
    assert_memory_equal(page + lh, sect, ls);
    assert_string_equal(page + lh + ls, tail);
    assert_int_equal(strncmp(head, "<!DOCTYPE html>", 15), 0);
    assert_int_equal(strncmp(sect, "<section", 8), 0);
    assert_non_null(strstr(sect, "Hackers stole &lt;data&gt;."));
    assert_non_null(strstr(sect, "No events found."));
    assert_int_equal(strncmp(tail, "<script>", 8), 0); /* the filters' script, then the end */
    assert_string_equal(tail + strlen(tail) - 15, "</body></html>\n");
    casie_free(page), casie_free(head), casie_free(sect), casie_free(tail);
    size_t le = 99;
    char *empty = casie_doc_to_html(NULL, 0, &le, &err);
    assert_non_null(empty);
    assert_int_equal(le, 0);
    casie_free(empty);
    assert_null(casie_doc_to_html(d, 4, NULL, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    casie_doc_free(d);
}

/* Chromium, node and tests/render's packages (npm ci from its lock file,
 * once): skips without them, but fails under CI=true, where they must be. */
static void need_browser(void) {
    const char *ci = getenv("CI");
    int in_ci = ci && !strcmp(ci, "true");
    if (access("/usr/bin/chromium", X_OK) != 0 || system("command -v node >/dev/null && command -v npm >/dev/null")) {
        if (in_ci) fail_msg("chromium or node is not installed (scripts/setup.sh installs them)");
        skip();
    }
    if (access("tests/render/node_modules/playwright-core/package.json", R_OK) != 0 &&
        system("npm ci --prefix tests/render --no-audit --no-fund --silent >/dev/null 2>&1") != 0) {
        if (in_ci) fail_msg("npm ci --prefix tests/render failed");
        printf("skipped: npm ci --prefix tests/render failed (offline?)\n");
        skip();
    }
}

/* Runs `node tests/render/SCRIPT ARGS`, echoing its output; passes when it
 * exits 0 and its last line says " 0 errors". */
static void run_node(const char *script, const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "node tests/render/%s %s 2>&1", script, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[4096], last[4096] = "";
    while (fgets(line, sizeof line, p))
        fputs(line, stdout), memcpy(last, line, sizeof line);
    int rc = pclose(p);
    assert_non_null(strstr(last, " 0 errors"));
    assert_int_equal(rc, 0);
}

/* The analyst's view in headless Chromium, driven by playwright-core
 * (tests/render/check.js): a title and date per article, one summary row
 * per event of the JSON, grouped by hopper, and filters that hide rows;
 * filters.js then checks the highlights, cards and contents on the same
 * page (--any: extracted events need not meet every case). */
static void summary_and_filters(void **state) {
    (void)state;
    need_browser();
    char json[256], html[300], args[2048], *out, *err;
    snprintf(json, sizeof json, "%s/analyst.jsonl", cli_tmpdir);
    snprintf(html, sizeof html, "%s/analyst.html", cli_tmpdir);
    snprintf(args, sizeof args,
             "extract tests/data/analyst/patch-day.txt tests/data/analyst/ransom-gang.txt "
             "tests/data/analyst/untitled.txt examples/sample-article.txt > %s && %s render -o %s %s",
             json, cli_bin, html, json);
    assert_int_equal(cli_run(args, &out, &err), 0);
    free(out), free(err);
    char *page = cli_slurp(html);
    assert_non_null(strstr(page, "<h2>Northwind ships fixes for three flaws in its mail server</h2>"));
    assert_non_null(strstr(page, "Published 2026-11-10"));
    assert_non_null(strstr(page, "Date unknown; read "));     /* untitled.txt has no date */
    assert_non_null(strstr(page, "<mark class=\"arg low\"")); /* faint (a faint row: filters_structure) */
    free(page);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s", html, json);
    run_node("check.js", cmd);
    snprintf(cmd, sizeof cmd, "%s %s --any", html, json);
    run_node("filters.js", cmd);
}

/* tests/data/render/filters.jsonl: three documents written for these tests.
 * "payroll": a phishing (hopper 1), a ransom told twice, Actual 0.8 and
 * Other 0.3 (hopper 2), a breach, Generic 0.6 (hopper 3); "Crooks" is the
 * attacker of 1.1 and 2.1, "Pell Farms" the victim of 2.1 and 2.2; "the files
 * of Pell Farms" (3.1) crosses "then locked the files" (2.1), so it is
 * closed and reopened: one continuation.  "patch": one patch event, no
 * title.  "quiet": no events. */
#define FILTERS_JSONL "tests/data/render/filters.jsonl"

/* What the filters' script reads, element by element. */
static void filters_structure(void **state) {
    (void)state;
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "render %s", FILTERS_JSONL);
    assert_int_equal(cli_run(args, &out, &err), 0);
    /* a span's first element: its number in the section and its events, once each */
    assert_non_null(strstr(out, "data-start=\"0\" data-end=\"6\" data-m=\"0\" data-ev=\"1.1 2.1\" title=\"Attacker"));
    assert_non_null(strstr(out, "data-start=\"85\" data-end=\"95\" data-m=\"6\" data-ev=\"2.1 2.2\" title=\"Victim"));
    assert_non_null(strstr(out, "data-span=\"trigger\" data-start=\"100\" data-end=\"105\" data-m=\"7\" "
                                "data-ev=\"2.2\" title="));
    /* its continuation: the same number, no events, a short title */
    assert_non_null(strstr(out, "data-start=\"72\" data-end=\"95\" data-m=\"5\" data-ev=\"3.1\" title="));
    assert_non_null(strstr(out, "data-start=\"72\" data-end=\"95\" data-m=\"5\" title=\"Compromised-Data argument "
                                "(continued)\">"));
    assert_int_equal(cli_count(out, "<mark"), 12 + 1 + 5);           /* payroll: 12 spans, 1 continuation; patch: 5 */
    assert_int_equal(cli_count(out, " data-ev=\""), 12 + 5 + 2 * 5); /* first elements, rows, cards */
    /* event ids are per section: both documents have a 1.1 */
    assert_int_equal(cli_count(out, "<div class=\"event\" data-ev=\"1.1\""), 2);
    /* the summary rows and the event cards carry the same attributes */
    const char *ev = " data-ev=\"2.2\" data-hopper=\"2\" data-subtype=\"Ransom\" data-realis=\"Other\" "
                     "data-score=\"0.3000\">";
    char want[512];
    snprintf(want, sizeof want, "<tr class=\"ev low\"%s", ev);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "<div class=\"event\"%s", ev);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "<div class=\"hopper\" data-hopper=\"3\"><h3>Hopper 3</h3>"));
    assert_int_equal(cli_count(out, "<div class=\"hopper\" data-hopper="), 4);
    /* the table of contents' place, once, filled by the script */
    assert_int_equal(cli_count(out, "<nav id=\"toc\" hidden>"), 1);
    assert_non_null(strstr(out, "'doc-' + (k + 1)"));
    /* the summary names the phishing's trusted entity and the ransom's means */
    assert_non_null(strstr(out, "<i>Trusted-Entity</i> Harbor Bank</span>"));
    assert_non_null(strstr(out, "<span class=\"sarg low\"><i>Payment-Method</i> bitcoin</span>"));
    free(out), free(err);
}

/* A summary row shows at most 2 mentions of a role and 6 in all, and
 * counts the rest: five victims do not crowd out the price and the means. */
static void summary_main_args_capped(void **state) {
    (void)state;
    char doc[4096] = "{\"id\": \"cap\", \"text\": \"V1 V2 V3 V4 V5 paid Gang 9 BTC in coins on Monday\", "
                     "\"cyberevent\": {\"hopper\": [{\"events\": [{\"subtype\": \"Ransom\", \"realis\": \"Actual\", "
                     "\"nugget\": {\"startOffset\": 15, \"endOffset\": 19, \"text\": \"paid\"}, \"argument\": [";
    for (int v = 0; v < 5; v++)
        snprintf(doc + strlen(doc), sizeof doc - strlen(doc),
                 "{\"startOffset\": %d, \"endOffset\": %d, \"text\": \"V%d\", \"type\": \"Organization\", "
                 "\"role\": {\"type\": \"Victim\"}},",
                 3 * v, 3 * v + 2, v + 1);
    strcat(doc, "{\"startOffset\": 20, \"endOffset\": 24, \"text\": \"Gang\", \"type\": \"Organization\", \"role\": "
                "{\"type\": \"Attacker\"}},"
                "{\"startOffset\": 25, \"endOffset\": 30, \"text\": \"9 BTC\", \"type\": \"Money\", \"role\": "
                "{\"type\": \"Price\"}},"
                "{\"startOffset\": 34, \"endOffset\": 39, \"text\": \"coins\", \"type\": \"PaymentMethod\", \"role\": "
                "{\"type\": \"Payment-Method\"}},"
                "{\"startOffset\": 43, \"endOffset\": 49, \"text\": \"Monday\", \"type\": \"Time\", \"role\": "
                "{\"type\": \"Time\"}}]}]}]}}");
    const char *path = cli_write("cap.json", doc);
    char args[512], *out, *err;
    snprintf(args, sizeof args, "render %s", path);
    assert_int_equal(cli_run(args, &out, &err), 0);
    const char *row = strstr(out, "<tr class=\"ev\"");
    assert_non_null(row);
    const char *end = strstr(row, "</tr>");
    char *r = strndup(row, (size_t)(end - row));
    assert_non_null(
        strstr(r, "<i>Attacker</i> Gang</span>; <span class=\"sarg\"><i>Victim</i> V1</span>; "
                  "<span class=\"sarg\"><i>Victim</i> V2</span>; <span class=\"sarg\"><i>Price</i> 9 BTC</span>; "
                  "<span class=\"sarg\"><i>Payment-Method</i> coins</span>; "
                  "<span class=\"sarg\"><i>Time</i> Monday</span>; <span class=\"more\">+3 more</span>"));
    assert_int_equal(cli_count(r, "class=\"sarg"), 6);
    free(r), free(out), free(err);
}

/* Issue: the filters need each span's events, and a span of many uses,
 * reopened at each boundary of the spans crossing it, must not repeat them
 * there: m events over the same n crossing spans write each span's list
 * once, on its first element, and the page stays linear in the input. */
static void event_lists_once_per_span(void **state) {
    (void)state;
    const int n = 300, m = 20, len = n + 8;
    char json[256];
    snprintf(json, sizeof json, "%s/shared.json", cli_tmpdir);
    FILE *f = fopen(json, "wb");
    assert_non_null(f);
    fprintf(f, "{\"id\":\"shared\",\"text\":\"");
    for (int i = 0; i < len; i++)
        fputc('x', f);
    fprintf(f, "\",\"cyberevent\":{\"hopper\":[{\"events\":[");
    for (int e = 0; e < m; e++) {
        fprintf(f, "%s{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":0,\"endOffset\":1},\"argument\":[",
                e ? "," : "");
        for (int i = 1; i <= n; i++)
            fprintf(f, "%s{\"startOffset\":%d,\"endOffset\":%d,\"type\":\"Person\",\"role\":\"Victim\"}",
                    i > 1 ? "," : "", i, i + 4);
        fputs("]}", f);
    }
    fputs("]}]}}\n", f);
    long in = ftell(f);
    fclose(f);
    char args[512], *out, *err;
    snprintf(args, sizeof args, "render %s", json);
    assert_int_equal(cli_run(args, &out, &err), 0);
    size_t html = strlen(out);
    print_message("%d events over %d crossing spans: %ld bytes of JSON, %zu of HTML\n", m, n, in, html);
    assert_true(html < 8 * (size_t)in + 16384);
    assert_int_equal(count_page_spans(out), n + 1);
    assert_true(cli_count(out, "<mark") > 2 * (n + 1)); /* continuations */
    /* data-ev on the n + 1 first elements, the m rows and the m cards */
    assert_int_equal(cli_count(out, " data-ev=\""), n + 1 + 2 * m);
    /* a span's list is every event once */
    assert_int_equal(cli_count(out, "data-ev=\"1.1 1.2 1.3 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 1.12 1.13 1.14 1.15 "
                                    "1.16 1.17 1.18 1.19 1.20\""),
                     n + 1);
    free(out), free(err);
}

/* The filters' script in headless Chromium (tests/render/filters.js): every
 * combination of subtype, realis and minimum score shows exactly the rows,
 * event and hopper cards, highlights (continuations with their first
 * element) and contents entries the JSON says; a page of one document has
 * no contents. */
static void filters_in_chromium(void **state) {
    (void)state;
    need_browser();
    char html[300], one_json[300], one_html[300], args[2048], *out, *err;
    snprintf(html, sizeof html, "%s/filters.html", cli_tmpdir);
    snprintf(args, sizeof args, "render -o %s %s", html, FILTERS_JSONL);
    assert_int_equal(cli_run(args, &out, &err), 0);
    free(out), free(err);
    snprintf(args, sizeof args, "%s %s", html, FILTERS_JSONL);
    run_node("filters.js", args);
    /* the "patch" document alone */
    snprintf(one_json, sizeof one_json, "%s/one.jsonl", cli_tmpdir);
    snprintf(one_html, sizeof one_html, "%s/one.html", cli_tmpdir);
    snprintf(args, sizeof args, "sed -n 2p %s > %s && %s render -o %s %s", FILTERS_JSONL, one_json, cli_bin, one_html,
             one_json);
    int rc = system(args);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    snprintf(args, sizeof args, "%s %s --any", one_html, one_json);
    run_node("filters.js", args);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_spans_match_json),   cmocka_unit_test(article_text_is_escaped),
        cmocka_unit_test(output_linear_in_spans),    cmocka_unit_test(in_chromium),
        cmocka_unit_test(summary_and_filters),       cmocka_unit_test(library_html_parts),
        cmocka_unit_test(filters_structure),         cmocka_unit_test(summary_main_args_capped),
        cmocka_unit_test(event_lists_once_per_span), cmocka_unit_test(filters_in_chromium),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
