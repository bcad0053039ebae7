/* osvol.c: the OS volume in the initrd (see osvol.h): the key is read once,
 * the volume found by its LUKS2 label, refused or opened by luks.c, and the
 * key dropped from the keyring before the root is handed anything. */
#include "target/osvol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/dirlist.h"
#include "base/util.h"
#include "target/luks.h"

/* The one volume labelled o->label, polled every 100 ms for o->wait_s s
 * (disks appear once their driver has probed them). */
static int find_volume(const struct osvol_opts *o, char **ret)
{
        double deadline = now_s() + o->wait_s;

        for (;;) {
                _cleanup_(strv_freep) char **v = NULL;
                size_t n;
                int r;

                r = luks_find_label(o->sys_class_block, o->dev_dir, o->label, &v, &n);
                if (r < 0)
                        return r;
                if (n == 1) {
                        *ret = TAKE_PTR(v[0]);
                        return 0;
                }
                /* Two volumes with our label: someone added one. */
                if (n > 1)
                        return errf(-ENOTUNIQ, "%zu LUKS2 volumes labelled %s (%s, %s%s)", n,
                                    o->label, v[0], v[1], n > 2 ? ", ..." : "");
                if (now_s() >= deadline)
                        return errf(-ENODEV, "no LUKS2 volume labelled %s (waited %u s)", o->label,
                                    o->wait_s);
                sleep_ms(100);
        }
}

int osvol_open(const struct osvol_opts *o, char **ret_device)
{
        _cleanup_free_ char *dev = NULL;
        struct secret pass = {};
        int32_t serial;
        int r, q;

        r = keyring_read(o->keyring, KEYRING_LUKS_DESCRIPTION, &pass, &serial);
        if (r < 0)
                return r;
        if (o->device)
                dev = xstrdup(o->device);
        else
                r = find_volume(o, &dev);
        if (r >= 0)
                r = luks_open_os(dev, o->name, pass.data, pass.len);
        secret_free(&pass);

        if (o->drop_key) {
                if (r < 0)
                        err_freeze(); /* the cause stays the open's */
                q = keyring_remove(o->keyring, serial);
                if (r < 0) {
                        err_thaw();
                } else if (q < 0) {
                        r = errf_prefix(q, "%s stays in the keyring", KEYRING_LUKS_DESCRIPTION);
                        err_freeze();
                        if (o->name)
                                (void)luks_close(o->name);
                        err_thaw();
                }
        }
        if (ret_device)
                *ret_device = TAKE_PTR(dev);
        return r;
}
