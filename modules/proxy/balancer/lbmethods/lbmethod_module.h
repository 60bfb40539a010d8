/*
 * lbmethod_module.h -- the module record an lbmethod .so of ours needs
 * besides its prx_lbmethod: a register_hooks that offers the method in
 * our provider group (PRX_LBMETHOD_GROUP) under its own name, and the
 * module itself. For lbmethods without directives (heartbeat has its
 * own record).
 *
 *   static const prx_lbmethod byrequests = { .name = "byrequests", ... };
 *   PRX_LBMETHOD_MODULE(lbmethod_byrequests_module, byrequests)
 */
#ifndef LBMETHOD_MODULE_H
#define LBMETHOD_MODULE_H

#include "prx_lbmethod.h"

#include <ap_provider.h>
#include <http_config.h>

#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
#define PRX_LBMETHOD_MODULE_FLAGS , AP_MODULE_FLAG_NONE
#else
#define PRX_LBMETHOD_MODULE_FLAGS
#endif

#define PRX_LBMETHOD_MODULE(modvar, method)                                  \
    static void register_hooks(apr_pool_t *p)                              \
    {                                                                      \
        ap_register_provider(p, PRX_LBMETHOD_GROUP, (method).name,         \
                             PRX_LBMETHOD_VERSION, &(method));             \
    }                                                                      \
    PRX_EXPORT module AP_MODULE_DECLARE_DATA modvar = {                    \
        STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL,             \
        register_hooks PRX_LBMETHOD_MODULE_FLAGS                           \
    };

#endif /* LBMETHOD_MODULE_H */
