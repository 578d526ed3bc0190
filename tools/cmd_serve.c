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
 * JSON, invalid UTF-8, bad query, an ambiguous framing: see head_refused),
 * 404, 405, 413 (body over --max-body, an extraction over --max-memory, or
 * over --max-pieces, the work limit), 415 (content type), 501 (a transfer
 * coding other than chunked) and 503 (shutting down).  A few malformed heads
 * libmicrohttpd answers itself, in HTML (docs/HARDENING.md).  One access-log
 * line per request on stderr.
 *
 * Only extractions wait in the workers' queue (first come, first served);
 * everything else, /healthz and /v1/labels included, is answered by the
 * connection thread at once, so a health check never waits behind articles.
 *
 * Memory: a worker starts an extraction only when its estimate
 * (serve_extract_memory) fits, beside the ones running, in --max-memory.
 *
 * Connections: --max-connections bounds the open ones that count.  When one
 * more arrives at the limit, the connection idle the longest (no request
 * begun, or only part of its head) is closed to make room, so idle sockets
 * cannot lock others out; a connection with a request under way is never
 * closed for it.  --timeout closes a connection idle that long
 * (libmicrohttpd's timeout), and, since a client sending a byte a second is
 * never idle, also one that has taken longer than that, plus a second per
 * 64 KB of body received, to send its request (the watchdog thread shuts its
 * socket down; libmicrohttpd then closes it as any dropped connection).
 *
 * SIGTERM or SIGINT: stop accepting (the listening socket is shut), close the
 * idle connections, answer any request that begins after the signal with
 * 503 and every response with Connection: close, let the requests in flight
 * finish for up to --shutdown-timeout seconds (default 10), then cut the rest
 * (their sockets shut; requests still queued answered 503; an extraction
 * still running is abandoned by exiting at once), and exit 0.
 *
 * Threads: libmicrohttpd's listening thread, a thread per connection (it
 * reads, answers what needs no extraction, and waits for the workers'
 * answer to an extraction), --threads workers, and the watchdog.
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"
#include "serve_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A connection as the watchdog and the connection limit see it. */
typedef struct conn_slot {
    struct MHD_Connection *c; /* NULL: a free slot */
    int fd;
    int phase;    /* 0 waiting for a request (idle, or its head arriving), 1 its body arriving, 2 complete */
    int cut;      /* shut down by us: closing, no longer counted */
    double since; /* when it began to wait for (or read) its current request */
    double heard; /* when it last showed progress: opened, a request begun or complete, body bytes */
    size_t got;   /* body bytes of that request so far */
} conn_slot;

#define MIN_BODY_RATE 65536.0        /* bytes a second a request body earns in time */
#define CONN_STACK ((size_t)1 << 20) /* a connection thread's stack: it never extracts */

typedef struct server {
    serve_ctx h;                                 /* what serve_respond needs */
    double timeout;                              /* seconds a request may take to arrive */
    pthread_mutex_t lock;                        /* guards conns, n_live and the counts below */
    conn_slot *conns;                            /* (n_slots,) */
    int n_slots;                                 /* 2 * max_live: room for connections still closing */
    int n_live, max_live;                        /* open connections not cut; --max-connections */
    long cut_slow, cut_idle, cut_full, cut_stop; /* connections cut: deadline, evicted at the limit, refused, at stop */
    atomic_int stop;                             /* the watchdog ends */
    atomic_int in_flight;                        /* requests begun and not yet completed */
    atomic_int stopping;                         /* a signal came: new requests get 503, responses Connection: close */
    atomic_int cutting;                          /* --shutdown-timeout passed: queued requests get 503 unextracted */
    atomic_int extracting;                       /* workers inside serve_respond */
    /* complete requests, first come first served by the workers: the
     * connection threads never extract, so none waits behind another's
     * queue of connections */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct request *qhead, *qtail;
    int qstop; /* workers end once the queue is empty; nothing is queued after */
    /* the memory estimates of the extractions running, within max_memory */
    pthread_mutex_t mlock;
    pthread_cond_t mcond;
    size_t mem_used;
} server;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static conn_slot *slot_of(server *s, struct MHD_Connection *c) {
    for (int i = 0; i < s->n_slots; i++)
        if (s->conns[i].c == c) return &s->conns[i];
    return NULL;
}

/* Shuts k's socket down (libmicrohttpd then closes the connection); lock held. */
static void cut(server *s, conn_slot *k, long *count) {
    if (k->cut) return;
    shutdown(k->fd, SHUT_RDWR);
    k->cut = 1;
    s->n_live--;
    (*count)++;
}

/* Bytes the client sent that the server has not read yet. */
static int pending(const conn_slot *k) {
    int n = 0;
    return ioctl(k->fd, FIONREAD, &n) == 0 && n > 0;
}

/* Sets c's phase; a new request (phase 0) or a complete one (2) restarts its clock. */
static void conn_phase(server *s, struct MHD_Connection *c, int phase) {
    pthread_mutex_lock(&s->lock);
    conn_slot *k = slot_of(s, c);
    if (k) {
        k->phase = phase;
        k->heard = now_s();
        if (phase != 1) k->since = k->heard, k->got = 0;
    }
    pthread_mutex_unlock(&s->lock);
}

static void conn_got(server *s, struct MHD_Connection *c, size_t n) {
    pthread_mutex_lock(&s->lock);
    conn_slot *k = slot_of(s, c);
    if (k) k->got += n, k->heard = now_s();
    pthread_mutex_unlock(&s->lock);
}

/* Over the limit: closes the connection idle the longest other than k, or
 * k itself when every other one is being answered or has bytes unread.
 * Idle: no request, part of a head, or part of a body, and nothing heard
 * since.  A stalled upload counts as idle: were it protected, connections
 * that send a head and a few bytes of body would fill the limit and lock
 * out every client, health checks included, until --timeout cut them.
 * Lock held. */
static void make_room(server *s, conn_slot *k) {
    conn_slot *oldest = NULL;
    for (int i = 0; i < s->n_slots; i++) {
        conn_slot *o = &s->conns[i];
        if (o->c && o != k && !o->cut && o->phase != 2 && (!oldest || o->heard < oldest->heard) && !pending(o))
            oldest = o;
    }
    if (oldest)
        cut(s, oldest, &s->cut_idle);
    else
        cut(s, k, &s->cut_full);
}

static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code) {
    server *s = cls;
    (void)socket_context;
    pthread_mutex_lock(&s->lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_slot *k = slot_of(s, NULL);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (k && ci) {
            double t = now_s();
            *k = (conn_slot){c, ci->connect_fd, 0, 0, t, t, 0};
            if (++s->n_live > s->max_live) make_room(s, k);
            if (atomic_load(&s->stopping)) cut(s, k, &s->cut_stop); /* accepted just before the listener was shut */
        } else if (ci) /* no slot: cannot happen while libmicrohttpd's limit is the table's size */
            shutdown(ci->connect_fd, SHUT_RDWR);
    } else { /* closed: before libmicrohttpd closes the fd, so the fd is never a reused one */
        conn_slot *k = slot_of(s, c);
        if (k) {
            if (!k->cut) s->n_live--;
            memset(k, 0, sizeof *k);
        }
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
        for (int i = 0; i < s->n_slots; i++) {
            conn_slot *k = &s->conns[i];
            /* bytes waiting unread: the client sent them and the server,
             * busy with other requests, is the slow one; wait */
            if (k->c && !k->cut && k->phase != 2 && t - k->since > s->timeout + (double)k->got / MIN_BODY_RATE &&
                !pending(k))
                cut(s, k, &s->cut_slow);
        }
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* Stopping: closes the connections with no request under way (all of them
 * when every_one). */
static void close_connections(server *s, int every_one) {
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n_slots; i++) {
        conn_slot *k = &s->conns[i];
        if (k->c && (every_one || (k->phase == 0 && !pending(k)))) cut(s, k, &s->cut_stop);
    }
    pthread_mutex_unlock(&s->lock);
}

typedef struct request {
    serve_body body;
    int status;
    size_t out_len;
    struct timespec t0;
    char line[200]; /* "METHOD /url" for the access log, escaped */
    /* once the body is in, an extraction waits in the server's queue, its
     * connection's thread waiting on done, until a worker has answered it */
    int state; /* 0 reading, 1 queued, 2 answered */
    int sent;  /* the answer is queued on the connection */
    int close; /* answered from its head: the connection closes after the answer */
    pthread_cond_t done;
    char *method, *url, *ctype, *format; /* copies for the worker */
    char *out;
    struct request *next;
} request;

static double ms_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) * 1e-6;
}

/* {"error": msg} and a newline, for the answers made here. */
static int error_answer(request *r, int status, const char *msg) {
    size_t n = 0;
    char *rec = casie_error_to_json(NULL, msg, &n);
    free(r->out);
    if (!(r->out = rec ? realloc(rec, n + 2) : NULL)) {
        casie_free(rec);
        return r->status = -1;
    }
    memcpy(r->out + n, "\n", 2);
    r->out_len = n + 1;
    return r->status = status;
}

static enum MHD_Result send_answer(server *s, struct MHD_Connection *c, request *r) {
    if (r->status < 0) return MHD_NO;
    r->sent = 1;
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->out_len, r->out, MHD_RESPMEM_MUST_FREE);
    if (!resp) return MHD_NO;
    r->out = NULL; /* the response owns it */
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (r->close || atomic_load(&s->stopping)) MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* What the first call counts among the headers. */
typedef struct head_info {
    int n_length, n_coding; /* Content-Length and Transfer-Encoding headers */
    int bad_name;           /* a name that is not a token, e.g. "Content-Length " from "Content-Length : 5" */
} head_info;

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    head_info *h = cls;
    (void)kind, (void)value;
    h->n_length += !strcasecmp(key, "Content-Length");
    h->n_coding += !strcasecmp(key, "Transfer-Encoding");
    if (!*key || key[strspn(key, tchar)]) h->bad_name = 1;
    return MHD_YES;
}

/* The answer a request gets from its head alone, before any of its body is
 * read: 0 when none, else its status.  A framing that the server and a proxy
 * in front of it could read differently (request smuggling, RFC 9112 6.1,
 * 6.3) is refused, and the connection closed: what follows on it cannot be
 * trusted to be the next request.  libmicrohttpd 0.9.75 checks the Host
 * header only at MHD_OPTION_STRICT_FOR_CLIENT 1 and white space before a
 * header's colon only at -1, answering each with an HTML page of its own
 * (the Host one with its status line and headers twice), so the server
 * keeps level 0 and checks both here, answering JSON. */
static int head_refused(server *s, struct MHD_Connection *c, const char *version, request *r) {
    head_info h = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &h);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    if (!strncmp(version, "HTTP/1.", 7) && version[7] >= '1' &&
        !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"))
        return error_answer(r, 400, "no Host header (HTTP/1.1 requires one)");
    if (h.bad_name) return error_answer(r, 400, "malformed header name (white space before the colon?)");
    if (h.n_length > 1) return error_answer(r, 400, "more than one Content-Length header");
    if (h.n_coding > 1 || (te && h.n_length))
        return error_answer(r, 400, "Transfer-Encoding with Content-Length, or twice: send one framing");
    if (te && strcasecmp(te, "chunked"))
        return error_answer(r, 501, "unsupported Transfer-Encoding: use chunked or Content-Length");
    /* libmicrohttpd has refused a malformed value already; this one is digits */
    if (cl && strtoull(cl, NULL, 10) > s->h.max_body) { /* at once: neither 100 Continue nor waiting for the body */
        char msg[128];
        snprintf(msg, sizeof msg, "request body over the limit of %zu bytes", s->h.max_body);
        return error_answer(r, 413, msg);
    }
    return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    server *s = cls;
    request *r = *con_cls;
    if (!r) { /* first call: headers only */
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        char m[24];
        serve_log_escape(m, sizeof m, method, 16);
        size_t k = (size_t)snprintf(r->line, sizeof r->line, "%s ", m);
        serve_log_escape(r->line + k, sizeof r->line - k, url, 1024);
        atomic_fetch_add(&s->in_flight, 1);
        *con_cls = r;
        conn_phase(s, c, 1);
        /* answered before the body, and the connection closed */
        if (head_refused(s, c, version, r))
            r->close = 1;
        else if (atomic_load(&s->stopping))
            error_answer(r, 503, "the server is shutting down");
        else
            return MHD_YES;
        r->state = 2;
        return send_answer(s, c, r);
    }
    if (*upload_size) { /* body data */
        conn_got(s, c, *upload_size);
        if (r->state == 0 && serve_body_append(&r->body, upload, *upload_size, s->h.max_body)) return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state == 0) { /* the request is in */
        conn_phase(s, c, 2);
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
        r->state = 2;
        if (atomic_load(&s->stopping))
            error_answer(r, 503, "the server is shutting down");
        else if (!(r->status = serve_route(&s->h, method, url, ct, fmt, &r->body, &r->out, &r->out_len))) {
            /* an extraction: to the queue; this connection's thread waits for a worker's answer */
            r->method = strdup(method);
            r->url = strdup(url);
            r->ctype = ct ? strdup(ct) : NULL;
            r->format = fmt ? strdup(fmt) : NULL;
            if (!r->method || !r->url || (ct && !r->ctype) || (fmt && !r->format)) return MHD_NO;
            if (pthread_cond_init(&r->done, NULL)) return MHD_NO;
            pthread_mutex_lock(&s->qlock);
            if (s->qstop)
                error_answer(r, 503, "the server is shutting down"); /* no worker left to answer */
            else {
                r->state = 1;
                if (s->qtail)
                    s->qtail->next = r;
                else
                    s->qhead = r;
                s->qtail = r;
                pthread_cond_signal(&s->qcond);
                while (r->state == 1)
                    pthread_cond_wait(&r->done, &s->qlock);
            }
            pthread_mutex_unlock(&s->qlock);
            pthread_cond_destroy(&r->done);
        }
        return send_answer(s, c, r);
    }
    return r->sent ? MHD_YES : send_answer(s, c, r);
}

/* Waits until an extraction estimated at need bytes fits in the budget. */
static void memory_take(server *s, size_t need) {
    pthread_mutex_lock(&s->mlock);
    while (s->mem_used && s->mem_used + need > s->h.max_memory)
        pthread_cond_wait(&s->mcond, &s->mlock);
    s->mem_used += need;
    pthread_mutex_unlock(&s->mlock);
}

static void memory_give(server *s, size_t need) {
    pthread_mutex_lock(&s->mlock);
    s->mem_used -= need;
    pthread_cond_broadcast(&s->mcond);
    pthread_mutex_unlock(&s->mlock);
}

/* A worker: answers queued requests in arrival order, then wakes their
 * connections' threads (after which the request is theirs again). */
static void *worker(void *arg) {
    server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->qlock);
        while (!s->qhead && !s->qstop)
            pthread_cond_wait(&s->qcond, &s->qlock);
        request *r = s->qhead;
        if (r && !(s->qhead = r->next)) s->qtail = NULL;
        pthread_mutex_unlock(&s->qlock);
        if (!r) return NULL; /* stopping, queue empty */
        if (atomic_load(&s->cutting))
            error_answer(r, 503, "the server is shutting down");
        else {
            size_t need = serve_extract_memory(s->h.m, r->body.len);
            if (s->h.max_memory) memory_take(s, need);
            atomic_fetch_add(&s->extracting, 1);
            r->status = serve_respond(&s->h, r->method, r->url, r->ctype, r->format, &r->body, &r->out, &r->out_len);
            atomic_fetch_sub(&s->extracting, 1);
            if (s->h.max_memory) memory_give(s, need);
            cli_trim_after(s->h.m, r->body.len);
        }
        pthread_mutex_lock(&s->qlock);
        r->state = 2;
        pthread_cond_signal(&r->done);
        pthread_mutex_unlock(&s->qlock);
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
    fprintf(stderr, "serve: %s \"%s\" %d %zu bytes in, %zu out, %.1f ms%s\n", addr, r->line, r->status, r->body.len,
            r->out_len, ms_since(&r->t0), toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    serve_body_free(&r->body);
    free(r->method), free(r->url), free(r->ctype), free(r->format), free(r->out);
    free(r);
    *con_cls = NULL;
    conn_phase(s, c, 0); /* waiting for the next request on this connection */
    atomic_fetch_sub(&s->in_flight, 1);
}

static void stop_workers(server *s, pthread_t *w, int n) {
    pthread_mutex_lock(&s->qlock);
    s->qstop = 1;
    pthread_cond_broadcast(&s->qcond);
    pthread_mutex_unlock(&s->qlock);
    for (int i = 0; i < n; i++)
        pthread_join(w[i], NULL);
}

/* Room for n descriptors: raises the soft limit up to the hard one if need be. */
static int fd_room(long n) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || (long)rl.rlim_cur >= n) return 0;
    if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < n) {
        fprintf(stderr, "casie serve: --max-connections needs %ld file descriptors; the limit is %ld (ulimit -n)\n", n,
                (long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = (rlim_t)n;
    return setrlimit(RLIMIT_NOFILE, &rl) ? -1 : 0;
}

/* ---- the command line ---- */

typedef struct serve_args {
    const char *host, *model;
    long port, threads, max_body, max_mem, max_pieces, max_conn, timeout, grace;
} serve_args;

static const cli_opt OPTIONS[] = {
    {"--host", NULL, "ADDR", "the IPv4 address to listen on (default 127.0.0.1: loopback only)",
     CLI_STRING(serve_args, host)},
    {"--port", NULL, "N", "the port (default 8080)", CLI_LONG(serve_args, port, 1, 65535)},
    {"--model", "-m", "MODEL", "as for casie extract", CLI_STRING(serve_args, model)},
    {"--threads", NULL, "N",
     "workers extracting, 1 to 64 (default 2); a request alone shares its\n"
     "encoder's work (the accurate model) with the idle ones",
     CLI_LONG(serve_args, threads, 1, 64)},
    {"--max-body", NULL, "BYTES", "the largest request body (default 2 MB)",
     CLI_LONG(serve_args, max_body, 1, 256L << 20)},
    {"--max-memory", NULL, "MB",
     "bounds the estimated memory of the extractions running at once\n"
     "(default 1024; 0: no bound)",
     CLI_LONG(serve_args, max_mem, 0, 1L << 30)},
    {"--max-pieces", NULL, "N",
     "bounds the work of one request: a body with more characters other\n"
     "than white space (each token or word piece holds one) is refused with\n"
     "413 before extracting (default 50000 with a model that reads an\n"
     "encoder, about a minute of its slowest input; 2000000 without; 0: no bound)",
     CLI_LONG(serve_args, max_pieces, 0, 1L << 30)},
    {"--max-connections", NULL, "N",
     "at the limit (default 256) the longest idle connection (a stalled\n"
     "upload is idle) is closed",
     CLI_LONG(serve_args, max_conn, 1, 10000)},
    {"--timeout", NULL, "SECONDS",
     "closes a connection idle that long (default 30), or one that takes\n"
     "longer (plus 1 s per 64 KB of body) to send its request",
     CLI_LONG(serve_args, timeout, 1, 86400)},
    {"--shutdown-timeout", NULL, "SECONDS", "how long a stop waits for the requests in flight (default 10)",
     CLI_LONG(serve_args, grace, 0, 86400)},
};

static const cli_command SERVE = {
    .name = "serve",
    .synopsis = "usage: casie serve [--host 127.0.0.1] [--port 8080] [-m MODEL] [--threads N]\n"
                "                   [--max-body BYTES] [--max-memory MB] [--max-pieces N]\n"
                "                   [--max-connections N] [--timeout SECONDS] [--shutdown-timeout SECONDS]\n"
                "  POST /v1/extract (text/plain or application/json), GET /v1/labels, GET /healthz.\n",
    .notes = "SIGTERM or SIGINT stops accepting and finishes the requests in flight, cut after\n"
             "--shutdown-timeout, then exits 0.\n",
    CLI_TABLE(OPTIONS),
    .max_args = 0,
};

int cmd_serve(int argc, char **argv) {
    serve_args a = {.host = "127.0.0.1",
                    .port = 8080,
                    .threads = 2,
                    .max_body = 2L << 20,
                    .max_mem = 1024,
                    .max_pieces = -1, /* by the model, once loaded */
                    .max_conn = 256,
                    .timeout = 30,
                    .grace = 10};
    int rc = cli_parse(&SERVE, argc, argv, &a, NULL);
    if (rc != CLI_GO_ON) return rc;
    const char *host = a.host;
    long port = a.port, threads = a.threads, max_conn = a.max_conn, timeout = a.timeout, grace = a.grace;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "casie serve: --host takes an IPv4 address, not '%s'\n", host);
        return 2;
    }
    if (fd_room(2 * max_conn + 64)) return 2;
    casie_error err = {0};
    casie_model *m = cli_load_model(a.model, &err);
    if (!m) return cli_fail(&err);
    if (a.max_pieces < 0) a.max_pieces = casie_model_has_encoder(m) ? 50000 : 2000000;
    static server s; /* one per process; the threads hold its address */
    s = (server){.h = {m, (size_t)a.max_body, serve_labels_json(m), (size_t)a.max_mem << 20, (size_t)a.max_pieces,
                       (int)threads, NULL},
                 .timeout = (double)timeout,
                 .conns = calloc(2 * (size_t)max_conn, sizeof(conn_slot)),
                 .n_slots = 2 * (int)max_conn,
                 .max_live = (int)max_conn};
    s.h.running = &s.extracting;
    pthread_mutex_init(&s.lock, NULL);
    pthread_mutex_init(&s.qlock, NULL);
    pthread_cond_init(&s.qcond, NULL);
    pthread_mutex_init(&s.mlock, NULL);
    pthread_cond_init(&s.mcond, NULL);
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
    /* A thread per connection, which waits for the workers' answer: a
     * connection suspended instead (libmicrohttpd 0.9.75) is dropped when
     * the client has half-closed it, and cannot be left suspended when the
     * daemon stops.  libmicrohttpd's own limit is the table's size:
     * connections being closed still hold a slot there. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC |
            MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)CONN_STACK, MHD_OPTION_CONNECTION_LIMIT, (unsigned)s.n_slots,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout, MHD_OPTION_NOTIFY_COMPLETED, completed, &s,
        MHD_OPTION_NOTIFY_CONNECTION, conn_notify, &s, MHD_OPTION_STRICT_FOR_CLIENT, (int)0, MHD_OPTION_END);
    pthread_t wd;
    int wd_ok = d && pthread_create(&wd, NULL, watchdog, &s) == 0;
    while (wd_ok && n_workers < threads && pthread_create(&workers[n_workers], NULL, worker, &s) == 0)
        n_workers++;
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
    double t0 = now_s();
    atomic_store(&s.stopping, 1);
    fprintf(stderr, "serve: %s: not accepting; finishing %d requests in flight (at most %ld s)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", atomic_load(&s.in_flight), grace);
    /* the socket stays open until the daemon stops (its threads may still
     * hold it), but shut, so that a connection attempt is refused */
    MHD_socket lfd = MHD_quiesce_daemon(d);
    if (lfd != MHD_INVALID_SOCKET) shutdown(lfd, SHUT_RDWR);
    for (;;) {
        close_connections(&s, 0);
        if (!atomic_load(&s.in_flight) || now_s() - t0 >= (double)grace) break;
        usleep(20000);
    }
    int left = atomic_load(&s.in_flight);
    if (left) { /* out of time: queued requests answered 503, every socket shut */
        atomic_store(&s.cutting, 1);
        close_connections(&s, 1);
        for (int k = 0; k < 50 && atomic_load(&s.extracting); k++)
            usleep(10000);
        if (atomic_load(&s.extracting)) { /* an extraction cannot be interrupted: leave it */
            fprintf(stderr, "serve: stopped after %.1f s: %d requests cut, an extraction abandoned\n", now_s() - t0,
                    left);
            fflush(stderr);
            _exit(0);
        }
    }
    stop_workers(&s, workers, n_workers); /* they answer what is queued first: no connection thread stays waiting */
    atomic_store(&s.stop, 1);
    pthread_join(wd, NULL);
    MHD_stop_daemon(d);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    free(s.h.labels);
    free(s.conns);
    free(workers);
    casie_model_free(m);
    fprintf(stderr,
            "serve: stopped after %.1f s: %d requests cut; connections cut: %ld slow, %ld idle at the limit, %ld "
            "refused at the limit, %ld at stop\n",
            now_s() - t0, left, s.cut_slow, s.cut_idle, s.cut_full, s.cut_stop);
    return 0;
}
