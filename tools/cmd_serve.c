/*
 * cmd_serve.c - `casie serve`: event extraction over HTTP (libmicrohttpd).
 *
 *   POST /v1/extract   text/plain (the article) or application/json
 *                      ({"id": ..., "text": ...} or a CASIE document) -> CASIE JSON,
 *                      or a STIX 2.1 bundle with ?format=stix
 *   GET  /v1/labels    subtypes, realis values, roles, entity types, model metadata
 *   GET  /healthz      {"status":"ok"}
 *
 * The model is loaded once and shared by the worker threads (casie_extract is
 * thread-safe on one model).  Errors are JSON {"error": ...} with 400 (bad
 * JSON, invalid UTF-8, bad query), 404, 405, 413 (body over --max-body), 415
 * (content type).  SIGTERM or SIGINT stops accepting, lets requests in flight
 * finish (up to 30 s), then exits 0.  One access-log line per request on stderr.
 *
 * Slow clients: --timeout closes a connection idle that long (libmicrohttpd's
 * timeout), and, since a client sending a byte a second is never idle, also
 * one that has taken longer than that, plus a second per 64 KB of body
 * received (a busy server reads a large body slowly), to send its request (a
 * watchdog thread shuts its socket down; libmicrohttpd then closes it as any
 * dropped connection).  --max-connections bounds the sockets held; the
 * polling threads never wait for a client, so a slow one delays nobody else.
 */
#include "cli_io.h"
#include "cmd.h"
#include "serve_http.h"

#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A connection as the watchdog sees it. */
typedef struct conn_slot {
    struct MHD_Connection *c; /* NULL: a free slot */
    int fd;
    int busy;     /* its request is complete and being answered: no deadline */
    double since; /* when it began to wait for (or read) its next request */
    size_t got;   /* body bytes of that request so far */
} conn_slot;

#define MIN_BODY_RATE 65536.0 /* bytes a second a request body earns in time */

typedef struct server {
    serve_ctx h; /* what serve_respond needs */
    atomic_int in_flight;
    double timeout;       /* seconds a request may take to arrive */
    pthread_mutex_t lock; /* guards conns */
    conn_slot *conns;     /* (max_conn,) */
    int n_conns;
    atomic_int stop;      /* the watchdog ends */
    long cut;             /* connections cut by the deadline */
    /* complete requests, first come first served by the workers: the
     * connection threads never extract, so none waits behind another's
     * queue of connections */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct request *qhead, *qtail;
    int qstop; /* workers end once the queue is empty */
} server;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static conn_slot *slot_of(server *s, struct MHD_Connection *c) {
    for (int i = 0; i < s->n_conns; i++)
        if (s->conns[i].c == c) return &s->conns[i];
    return NULL;
}

/* Marks c's request as complete (busy 1) or c as waiting for its next one. */
static void conn_mark(server *s, struct MHD_Connection *c, int busy) {
    pthread_mutex_lock(&s->lock);
    conn_slot *k = slot_of(s, c);
    if (k) k->busy = busy, k->since = now_s(), k->got = 0;
    pthread_mutex_unlock(&s->lock);
}

static void conn_got(server *s, struct MHD_Connection *c, size_t n) {
    pthread_mutex_lock(&s->lock);
    conn_slot *k = slot_of(s, c);
    if (k) k->got += n;
    pthread_mutex_unlock(&s->lock);
}

static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code) {
    server *s = cls;
    (void)socket_context;
    pthread_mutex_lock(&s->lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_slot *k = slot_of(s, NULL);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (k && ci) *k = (conn_slot){c, ci->connect_fd, 0, now_s(), 0};
    } else { /* closed: before libmicrohttpd closes the fd, so the fd is never a reused one */
        conn_slot *k = slot_of(s, c);
        if (k) memset(k, 0, sizeof *k);
    }
    pthread_mutex_unlock(&s->lock);
}

/* Cuts the connections whose request has not arrived within the timeout. */
static void *watchdog(void *arg) {
    server *s = arg;
    while (!atomic_load(&s->stop)) {
        usleep(200000);
        double t = now_s();
        pthread_mutex_lock(&s->lock);
        for (int i = 0; i < s->n_conns; i++) {
            conn_slot *k = &s->conns[i];
            if (k->c && !k->busy && t - k->since > s->timeout + (double)k->got / MIN_BODY_RATE) {
                /* bytes waiting unread: the client sent them and the server,
                 * busy with other requests, is the slow one; wait */
                int pending = 0;
                if (ioctl(k->fd, FIONREAD, &pending) == 0 && pending > 0) continue;
                shutdown(k->fd, SHUT_RDWR);
                k->since = 1e300; /* once */
                s->cut++;
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

typedef struct request {
    serve_body body;
    int status;
    size_t out_len;
    struct timespec t0;
    char line[160]; /* "METHOD /url" for the access log */
    /* once the body is in, the request waits in the server's queue (its
     * connection suspended) until a worker has answered it */
    int state; /* 0 reading, 1 queued, 2 answered */
    struct MHD_Connection *c;
    char *method, *url, *ctype, *format; /* copies for the worker */
    char *out;
    struct request *next;
} request;

static double ms_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) * 1e-6;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    server *s = cls;
    request *r = *con_cls;
    (void)version;
    if (!r) { /* first call: headers only */
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        snprintf(r->line, sizeof r->line, "%.10s %.140s", method, url);
        atomic_fetch_add(&s->in_flight, 1);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) { /* body data */
        conn_got(s, c, *upload_size);
        if (serve_body_append(&r->body, upload, *upload_size, s->h.max_body)) return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state == 0) { /* the request is in: to the queue, no deadline while it waits and is answered */
        conn_mark(s, c, 1);
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
        r->c = c;
        r->method = strdup(method);
        r->url = strdup(url);
        r->ctype = ct ? strdup(ct) : NULL;
        r->format = fmt ? strdup(fmt) : NULL;
        if (!r->method || !r->url || (ct && !r->ctype) || (fmt && !r->format)) return MHD_NO;
        r->state = 1;
        MHD_suspend_connection(c);
        pthread_mutex_lock(&s->qlock);
        if (s->qtail) s->qtail->next = r;
        else s->qhead = r;
        s->qtail = r;
        pthread_cond_signal(&s->qcond);
        pthread_mutex_unlock(&s->qlock);
        return MHD_YES;
    }
    if (r->state != 2 || r->status < 0) return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->out_len, r->out, MHD_RESPMEM_MUST_FREE);
    if (!resp) return MHD_NO;
    r->out = NULL; /* the response owns it */
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* A worker: answers queued requests in arrival order, then resumes their
 * connections (after which the request belongs to the connection thread). */
static void *worker(void *arg) {
    server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->qlock);
        while (!s->qhead && !s->qstop) pthread_cond_wait(&s->qcond, &s->qlock);
        request *r = s->qhead;
        if (r && !(s->qhead = r->next)) s->qtail = NULL;
        pthread_mutex_unlock(&s->qlock);
        if (!r) return NULL; /* stopping, queue empty */
        r->status = serve_respond(&s->h, r->method, r->url, r->ctype, r->format, &r->body, &r->out, &r->out_len);
        r->state = 2;
        MHD_resume_connection(r->c);
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    server *s = cls;
    request *r = *con_cls;
    if (!r) return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[64] = "-";
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const unsigned char *ip = (const unsigned char *)&((const struct sockaddr_in *)ci->client_addr)->sin_addr;
        snprintf(addr, sizeof addr, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    }
    fprintf(stderr, "serve: %s \"%s\" %d %zu bytes in, %zu out, %.1f ms%s\n", addr, r->line, r->status, r->body.len, r->out_len,
            ms_since(&r->t0), toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    serve_body_free(&r->body);
    free(r->method), free(r->url), free(r->ctype), free(r->format), free(r->out);
    free(r);
    *con_cls = NULL;
    conn_mark(s, c, 0); /* waiting for the next request on this connection */
    atomic_fetch_sub(&s->in_flight, 1);
}

static int usage(FILE *f) {
    fprintf(f, "usage: casie serve [--host 127.0.0.1] [--port 8080] [-m MODEL] [--threads N]\n"
               "                   [--max-body BYTES] [--max-connections N] [--timeout SECONDS]\n"
               "  POST /v1/extract (text/plain or application/json), GET /v1/labels, GET /healthz.\n"
               "  Loopback only unless --host says otherwise.  SIGTERM finishes requests in flight.\n"
               "  --timeout (default 30) closes a connection idle that long, or one that takes longer\n"
               "  (plus 1 s per 64 KB of body) to send its request; --max-connections defaults to 256,\n"
               "  --max-body to 10 MB.\n");
    return f == stdout ? 0 : 2;
}

static void stop_workers(server *s, pthread_t *w, int n) {
    pthread_mutex_lock(&s->qlock);
    s->qstop = 1;
    pthread_cond_broadcast(&s->qcond);
    pthread_mutex_unlock(&s->qlock);
    for (int i = 0; i < n; i++) pthread_join(w[i], NULL);
}

int cmd_serve(int argc, char **argv) {
    const char *host = "127.0.0.1", *model = NULL;
    long port = 8080, threads = 2, max_body = 10L << 20, max_conn = 256, timeout = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        if (!v) {
            fprintf(stderr, "casie serve: %s needs a value\n", a);
            return usage(stderr);
        }
        i++;
        char *end = NULL;
        long x = strtol(v, &end, 10);
        int num = end && !*end && *v;
        if (!strcmp(a, "--host")) host = v;
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--port") && num && x > 0 && x < 65536) port = x;
        else if (!strcmp(a, "--threads") && num && x >= 1 && x <= 64) threads = x;
        else if (!strcmp(a, "--max-body") && num && x >= 1) max_body = x;
        else if (!strcmp(a, "--max-connections") && num && x >= 1) max_conn = x;
        else if (!strcmp(a, "--timeout") && num && x >= 1) timeout = x;
        else {
            fprintf(stderr, "casie serve: bad option or value: %s %s\n", a, v);
            return usage(stderr);
        }
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "casie serve: --host takes an IPv4 address, not '%s'\n", host);
        return 2;
    }
    casie_error err = {0};
    casie_model *m = casie_model_load(model ? model : cli_default_model(), &err);
    if (!m) return cli_fail(&err);
    server s = {{m, (size_t)max_body, serve_labels_json(m)}, 0, (double)timeout, PTHREAD_MUTEX_INITIALIZER,
                calloc((size_t)max_conn, sizeof(conn_slot)), (int)max_conn, 0, 0,
                PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0};
    pthread_t *workers = calloc((size_t)threads, sizeof(pthread_t));
    int n_workers = 0;
    if (!s.h.labels || !s.conns || !workers) {
        free(s.h.labels);
        free(s.conns);
        free(workers);
        casie_model_free(m);
        fprintf(stderr, "casie serve: out of memory\n");
        return 1;
    }
    /* SIGTERM and SIGINT are taken by sigwait below, in this thread only */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handle, &s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conn, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout,
        MHD_OPTION_NOTIFY_COMPLETED, completed, &s, MHD_OPTION_NOTIFY_CONNECTION, conn_notify, &s, MHD_OPTION_END);
    pthread_t wd;
    int wd_ok = d && pthread_create(&wd, NULL, watchdog, &s) == 0;
    while (wd_ok && n_workers < threads && pthread_create(&workers[n_workers], NULL, worker, &s) == 0) n_workers++;
    if (!d || !wd_ok || n_workers < threads) {
        fprintf(stderr, "casie serve: cannot %s on %s:%ld\n", d ? "start its threads" : "listen", host, port);
        stop_workers(&s, workers, n_workers);
        if (wd_ok) {
            atomic_store(&s.stop, 1);
            pthread_join(wd, NULL);
        }
        if (d) MHD_stop_daemon(d);
        free(s.h.labels);
        free(s.conns);
        free(workers);
        casie_model_free(m);
        return 1;
    }
    fprintf(stderr, "serve: listening on http://%s:%ld with %ld threads\n", host, port, threads);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "serve: %s, finishing %d requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            atomic_load(&s.in_flight));
    MHD_quiesce_daemon(d); /* no new connections */
    for (int k = 0; k < 300 && atomic_load(&s.in_flight) > 0; k++) usleep(100000);
    stop_workers(&s, workers, n_workers); /* they answer what is queued first: no connection stays suspended */
    atomic_store(&s.stop, 1);
    pthread_join(wd, NULL);
    MHD_stop_daemon(d);
    free(s.h.labels);
    free(s.conns);
    free(workers);
    casie_model_free(m);
    fprintf(stderr, "serve: stopped (%ld slow connections cut)\n", s.cut);
    return 0;
}
