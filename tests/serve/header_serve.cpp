// serve.h compiles alone as strict C++11 and can be used from C++:
// designated-initializer-free setup, the enum, the callback.
#include <mparticle/serve.h>

static void on_log(void *ctx, const char *message) {
    (void)ctx;
    (void)message;
}

int main() {
    mp_serve_options o = mp_serve_options();
    o.retry_after = MP_SERVE_RETRY_AFTER_HTTP_DATE;
    o.log = on_log;
    mp_server *s = 0;
    char err[128];
    if (mp_serve_start(&o, &s, err, sizeof err) != MP_OK)
        return 1;
    int script[] = {503, MP_SERVE_SCRIPT_RESET};
    mp_error rc = mp_serve_push_script(s, script, 2);
    mp_serve_stats st;
    mp_serve_stats_get(s, &st);
    mp_serve_stop(s);
    return rc == MP_OK && st.requests == 0 && mp_serve_port(0) == 0 ? 0 : 1;
}
