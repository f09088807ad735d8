/* fp_priv: setgroups/setgid/setuid to an unprivileged user + no_new_privs. */
#include "fp_priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"

int fp_priv_drop(const char *user)
{
    if (geteuid() == 0) {
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(user);
        if (pw == NULL) {
            log_err("no user '%s' to run as: %s", user,
                    errno ? strerror(errno) : "not in the user database");
            return -1;
        }
        if (pw->pw_uid == 0) {
            log_err("user '%s' is root; pick an unprivileged one", user);
            return -1;
        }
        if (setgroups(0, NULL) < 0 ||
            setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
            log_err("cannot switch to user %s: %s", user, strerror(errno));
            return -1;
        }
        if (setuid(0) == 0 || geteuid() == 0) {
            log_err("could regain root after dropping to %s", user);
            return -1;
        }
#ifdef __SANITIZE_ADDRESS__
        /* LeakSanitizer stops the world with ptrace, which a non-dumpable
         * process (set by setuid) refuses. Sanitizer builds only. */
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        log_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return -1;
    }
    if (chdir("/") < 0) {
        log_err("chdir /: %s", strerror(errno));
        return -1;
    }
    return 0;
}
