/*
 * balancer_manager.h -- the balancer-manager's side of mod_proxy_balancer
 * (balancer_manager.c): the one function the module's register_hooks
 * calls, and the optional function other modules may call (spec
 * balancer.md §13, §13.8). Private to mod_proxy_balancer.so.
 */
#ifndef PRX_BALANCER_MANAGER_H
#define PRX_BALANCER_MANAGER_H

#include <apr_optional.h>
#include <apr_tables.h>
#include <httpd.h>

/**
 * Register the `balancer-manager` content handler (SetHandler
 * balancer-manager; runs first) and the optional function
 * `balancer_manage`. Called once from mod_proxy_balancer's register_hooks.
 */
void bal_manager_register_hooks(apr_pool_t *p);

/**
 * `balancer_manage(r, params)` (spec balancer.md §13.8): apply the
 * manager's parameters in `params` (`b` names the balancer without its
 * "balancer://", `w` a member URL, the w_* and b_* keys) to r->server's
 * balancers, without the Referer and nonce checks of the page.
 * @return 400 when no balancer is named or it does not exist, or when
 *         adding a member failed; 0 on success.
 */
APR_DECLARE_OPTIONAL_FN(int, balancer_manage,
                        (request_rec *r, apr_table_t *params));

#endif /* PRX_BALANCER_MANAGER_H */
