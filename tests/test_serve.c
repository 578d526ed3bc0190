/*
 * test_serve.c - `casie serve` on loopback: every endpoint, every error status
 * (400 bad JSON, 400 invalid UTF-8, 404, 405, 413, 415), concurrent clients,
 * slow clients cut by the request deadline while others are answered, the
 * access log, and SIGTERM finishing a request in flight before exit 0.
 */
#include "cli_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

static int port;
static pid_t server;
static char logpath[256];

/* One HTTP/1.1 exchange with Connection: close; returns the status code and
 * the body in *body (malloc'd), or -1 when the connection fails. */
static int http(const char *method, const char *path, const char *ctype, const char *data, size_t len, char **body) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                      method, path, ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", len);
    if (write(fd, head, (size_t)hl) != hl) {
        close(fd);
        return -1;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) break; /* the server may answer 413 and close early */
        off += (size_t)w;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (ssize_t r; (r = read(fd, buf + n, cap - n - 1)) > 0;) {
        n += (size_t)r;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    close(fd);
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) status = -1;
    char *b = strstr(buf, "\r\n\r\n");
    *body = strdup(b ? b + 4 : "");
    free(buf);
    return status;
}

static int start(void **state) {
    if (cli_setup(state)) return -1;
    port = 20000 + getpid() % 20000;
    snprintf(logpath, sizeof logpath, "%s/serve.log", cli_tmpdir);
    server = fork();
    if (server == 0) {
        if (!freopen(logpath, "w", stderr)) _exit(127);
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        execl(cli_bin, cli_bin, "serve", "--port", p, "--threads", "2", "--max-body", "2000000", "--timeout",
              "3", "-m", "models/casie-default.model", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) { /* up to 10 s for the model to load */
        char *b;
        if (http("GET", "/healthz", NULL, "", 0, &b) == 200) {
            free(b);
            return 0;
        }
        usleep(100000);
    }
    return -1;
}

static int stop(void **state) {
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    return cli_teardown(state);
}

static void endpoints(void **state) {
    (void)state;
    char *b;
    assert_int_equal(http("GET", "/healthz", NULL, "", 0, &b), 200);
    assert_string_equal(b, "{\"status\":\"ok\"}\n");
    free(b);
    assert_int_equal(http("GET", "/v1/labels", NULL, "", 0, &b), 200);
    assert_non_null(strstr(b, "\"DiscoverVulnerability\""));
    assert_non_null(strstr(b, "\"Vulnerable_System_Version\""));
    assert_non_null(strstr(b, "\"PaymentMethod\""));
    assert_non_null(strstr(b, "\"model\":{\"casie_version\""));
    free(b);
    const char *text = "Hackers stole the personal data of 2 million customers from Acme Bank on Monday.";
    assert_int_equal(http("POST", "/v1/extract", "text/plain", text, strlen(text), &b), 200);
    assert_non_null(strstr(b, "\"subtype\":\"Databreach\""));
    assert_non_null(strstr(b, "\"score\":"));
    free(b);
    const char *rec = "{\"id\": \"r1\", \"text\": \"Microsoft released a patch for a flaw in Windows.\"}";
    assert_int_equal(http("POST", "/v1/extract", "application/json; charset=utf-8", rec, strlen(rec), &b), 200);
    assert_non_null(strstr(b, "\"sourcefile\":\"r1.txt\""));
    assert_non_null(strstr(b, "PatchVulnerability"));
    free(b);
    assert_int_equal(http("POST", "/v1/extract?format=stix", "text/plain", text, strlen(text), &b), 200);
    assert_non_null(strstr(b, "{\"type\":\"bundle\""));
    assert_non_null(strstr(b, "\"type\":\"report\""));
    free(b);
}

static void errors(void **state) {
    (void)state;
    char *b;
    assert_int_equal(http("POST", "/v1/extract", "application/json", "{\"text\": ", 9, &b), 400);
    assert_non_null(strstr(b, "JSON syntax error"));
    free(b);
    assert_int_equal(http("POST", "/v1/extract", "application/json", "[1,2]", 5, &b), 400);
    free(b);
    assert_int_equal(http("POST", "/v1/extract", "text/plain", "ab\xff\xfe", 4, &b), 400);
    assert_non_null(strstr(b, "not valid UTF-8"));
    free(b);
    assert_int_equal(http("POST", "/v1/extract", "text/html", "<p>x</p>", 8, &b), 415);
    free(b);
    assert_int_equal(http("POST", "/v1/extract", NULL, "x", 1, &b), 415);
    free(b);
    assert_int_equal(http("POST", "/v1/extract?format=xml", "text/plain", "x", 1, &b), 400);
    free(b);
    assert_int_equal(http("GET", "/v1/extract", NULL, "", 0, &b), 405);
    free(b);
    assert_int_equal(http("GET", "/nothing", NULL, "", 0, &b), 404);
    assert_non_null(strstr(b, "\"error\":"));
    free(b);
    size_t big = 3000000;
    char *data = malloc(big);
    memset(data, 'a', big);
    assert_int_equal(http("POST", "/v1/extract", "text/plain", data, big, &b), 413);
    free(b);
    free(data);
    /* and good requests still succeed */
    assert_int_equal(http("POST", "/v1/extract", "text/plain", "Ransomware hit the city.", 24, &b), 200);
    free(b);
}

static void *client(void *arg) {
    long ok = 0;
    (void)arg;
    for (int i = 0; i < 20; i++) {
        char *b;
        const char *t = "Attackers demanded a ransom of 2 Bitcoin from the hospital after encrypting its files.";
        ok += http("POST", "/v1/extract", "text/plain", t, strlen(t), &b) == 200 && strstr(b, "Ransom");
        free(b);
    }
    return (void *)ok;
}

static void concurrent_clients(void **state) {
    (void)state;
    pthread_t th[8];
    for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, client, NULL);
    long total = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    assert_int_equal(total, 160);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A client that sends its request 4 bytes a second is never idle, so the idle
 * timeout alone would keep it forever: the request deadline (--timeout 3)
 * cuts it, and other clients are answered at their usual speed meanwhile. */
static void slow_client_is_cut(void **state) {
    (void)state;
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof sa), 0);
    }
    static const char req[] = "POST /v1/extract HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 20\r\n\r\nHackers stole data.\n";
    double t0 = now_s(), cut_at = 0, worst = 0;
    int good = 0;
    for (size_t k = 0; k < sizeof req - 1 && !cut_at; k++) {
        for (int i = 0; i < 4; i++)
            if (send(fds[i], req + k, 1, MSG_NOSIGNAL) != 1) cut_at = now_s() - t0;
        if (k % 4 == 0) { /* a normal client, meanwhile */
            double a = now_s();
            char *b;
            assert_int_equal(http("GET", "/healthz", NULL, "", 0, &b), 200);
            free(b);
            if (now_s() - a > worst) worst = now_s() - a;
            good++;
        }
        usleep(250000);
    }
    for (int i = 0; i < 4; i++) close(fds[i]);
    print_message("slow clients cut after %.1f s; %d other requests meanwhile, slowest %.3f s\n", cut_at, good, worst);
    assert_true(cut_at > 2.5 && cut_at < 6);
    assert_true(worst < 1.0);
}

static void *slow_request(void *arg) {
    /* about half a second of extraction (under valgrind, 50 times slower, a
     * tenth of it: the drain waits 30 s at most) */
    const char *vg = getenv("CASIE_VALGRIND");
    size_t n = vg && !strcmp(vg, "1") ? 20000 : 200000; /* about 2 s of extraction */
    char *t = malloc(n + 1);
    for (size_t i = 0; i < n; i++) t[i] = "Hackers stole data from the bank. "[i % 34];
    t[n] = 0;
    char *b;
    long st = http("POST", "/v1/extract", "text/plain", t, n, &b);
    free(b);
    free(t);
    (void)arg;
    return (void *)st;
}

static void sigterm_finishes_in_flight(void **state) {
    (void)state;
    pthread_t th;
    pthread_create(&th, NULL, slow_request, NULL);
    usleep(300000); /* the request is being processed */
    kill(server, SIGTERM);
    void *st;
    pthread_join(th, &st);
    assert_int_equal((long)st, 200);
    int status;
    assert_int_equal(waitpid(server, &status, 0), server);
    server = 0;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *log = cli_slurp(logpath);
    assert_non_null(strstr(log, "serve: listening on http://127.0.0.1:"));
    assert_non_null(strstr(log, "\"POST /v1/extract\" 413"));
    assert_non_null(strstr(log, "\"GET /nothing\" 404"));
    assert_non_null(strstr(log, "serve: SIGTERM"));
    assert_non_null(strstr(log, "serve: stopped (4 slow connections cut)"));
    free(log);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoints),
        cmocka_unit_test(errors),
        cmocka_unit_test(concurrent_clients),
        cmocka_unit_test(slow_client_is_cut),
        cmocka_unit_test(sigterm_finishes_in_flight),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
