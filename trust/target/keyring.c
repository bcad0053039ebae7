/* keyring.c: secrets in the kernel keyring (see keyring.h). A key is
 * added in the session keyring (so this process possesses it while setting its
 * permissions) and then moved to the target keyring, as the deployed initrds
 * expect (https://mjg59.dreamwidth.org/37333.html explains why). */
#include "target/keyring.h"

#include <errno.h>
#include <keyutils.h>
#include <string.h>

#include "base/util.h"

int keyring_target_from_string(const char *s, enum keyring_target *ret)
{
        if (!strcmp(s, "user"))
                *ret = KEYRING_USER;
        else if (!strcmp(s, "session"))
                *ret = KEYRING_SESSION;
        else
                return errf(-EINVAL, "keyring '%s': expected 'user' or 'session'", s);
        return 0;
}

static key_serial_t target_ring(enum keyring_target target)
{
        return target == KEYRING_USER ? KEY_SPEC_USER_KEYRING : KEY_SPEC_SESSION_KEYRING;
}

int keyring_add(enum keyring_target target, const char *description, const void *data, size_t len,
                int32_t *ret_serial)
{
        key_serial_t key;
        int r;

        key = add_key("user", description, data, len, KEY_SPEC_SESSION_KEYRING);
        if (key < 0)
                return errf(-errno, "keyring: adding %s: %s", description, strerror(errno));
        if (keyctl_setperm(key, KEY_POS_ALL | KEY_USR_ALL) < 0) {
                r = -errno;
                goto fail;
        }
        if (target == KEYRING_USER) {
                if (keyctl_link(key, KEY_SPEC_USER_KEYRING) < 0) {
                        r = -errno;
                        goto fail;
                }
                if (keyctl_unlink(key, KEY_SPEC_SESSION_KEYRING) < 0) {
                        r = -errno;
                        (void)keyctl_unlink(key, KEY_SPEC_USER_KEYRING);
                        goto fail;
                }
        }
        *ret_serial = key;
        return 0;
fail:
        (void)keyctl_invalidate(key);
        return errf(r, "keyring: storing %s: %s", description, strerror(-r));
}

int keyring_remove(enum keyring_target target, int32_t serial)
{
        if (keyctl_invalidate(serial) < 0 && keyctl_unlink(serial, target_ring(target)) < 0)
                return errf(-errno, "keyring: removing key %d: %s", serial, strerror(errno));
        return 0;
}

#define KEYRING_READ_MAX 4096

int keyring_read(enum keyring_target target, const char *description, struct secret *ret,
                 int32_t *ret_serial)
{
        const char *ring = target == KEYRING_USER ? "user" : "session";
        key_serial_t key;
        int e;

        /* An invalidated key may still be found, as revoked, until the
         * kernel's garbage collector has run: that is no key either. */
        key = keyctl_search(target_ring(target), "user", description, 0);
        if (key < 0 && (errno == ENOKEY || errno == EKEYREVOKED || errno == EKEYEXPIRED))
                return errf(-ENOKEY, "keyring: no key %s in the %s keyring", description, ring);
        if (key < 0)
                return errf(-errno, "keyring: searching %s: %s", description, strerror(errno));
        /* The size first, then the bytes straight into a wiped buffer (not
         * keyctl_read_alloc, whose copy would be freed unwiped); again if the
         * key changed size in between. */
        for (int tries = 0; tries < 3; tries++) {
                long n = keyctl_read(key, NULL, 0), m;

                if (n < 0)
                        return errf(-errno, "keyring: reading %s: %s", description,
                                    strerror(errno));
                if (n == 0 || n > KEYRING_READ_MAX)
                        return errf(-EBADMSG, "keyring: %s: %ld bytes (expected 1 to %d)",
                                    description, n, KEYRING_READ_MAX);
                if (secret_alloc(ret, (size_t)n) < 0)
                        return errf(-ENOMEM, "keyring: reading %s: out of memory", description);
                m = keyctl_read(key, (char *)ret->data, (size_t)n);
                if (m == n) {
                        *ret_serial = key;
                        return 0;
                }
                e = errno;
                secret_free(ret);
                if (m < 0)
                        return errf(-e, "keyring: reading %s: %s", description, strerror(e));
        }
        return errf(-EAGAIN, "keyring: %s keeps changing size", description);
}

int keyring_find(const char *description, struct secret *ret)
{
        static const enum keyring_target rings[] = { KEYRING_USER, KEYRING_SESSION };
        int32_t serial;

        for (size_t i = 0; i < ELEMENTSOF(rings); i++) {
                int r = keyring_read(rings[i], description, ret, &serial);

                if (r != -ENOKEY)
                        return r;
        }
        return -ENOKEY;
}
