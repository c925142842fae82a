/* actions.h - every action this runtime checks against the caller's
 * security scope, with the resource it is checked on. docs/security.md
 * holds the same table with where each is checked here and in Go Wippy;
 * tests/integration/test_permissions.py fails when the two differ, and when
 * a check names its action with anything but one of these. */
#ifndef WIPPY_SECURITY_ACTIONS_H
#define WIPPY_SECURITY_ACTIONS_H

/* http_client (resource: the URL as given; for private_ip the address) */
#define ACTION_HTTP_CLIENT_REQUEST "http_client.request"
#define ACTION_HTTP_CLIENT_PRIVATE_IP "http_client.private_ip"
#define ACTION_HTTP_CLIENT_INSECURE_TLS "http_client.insecure_tls"

/* networks (resource: the overlay id, or "direct") */
#define ACTION_NETWORK_SELECT "network.select"
#define ACTION_NETWORK_BIND "network.bind"

/* funcs (resource: the function id; "context", "security") */
#define ACTION_FUNCS_CALL "funcs.call"
#define ACTION_FUNCS_CONTEXT "funcs.context"
#define ACTION_FUNCS_SECURITY "funcs.security"

/* process (resource: the entry id, the host id, the target pid, a name) */
#define ACTION_PROCESS_SPAWN "process.spawn"
#define ACTION_PROCESS_SPAWN_MONITORED "process.spawn.monitored"
#define ACTION_PROCESS_SPAWN_LINKED "process.spawn.linked"
#define ACTION_PROCESS_HOST "process.host"
#define ACTION_PROCESS_EXEC "process.exec"
#define ACTION_PROCESS_SEND "process.send"
#define ACTION_PROCESS_TERMINATE "process.terminate"
#define ACTION_PROCESS_CANCEL "process.cancel"
#define ACTION_PROCESS_MONITOR "process.monitor"
#define ACTION_PROCESS_UNMONITOR "process.unmonitor"
#define ACTION_PROCESS_LINK "process.link"
#define ACTION_PROCESS_UNLINK "process.unlink"
#define ACTION_PROCESS_CONTEXT "process.context"
#define ACTION_PROCESS_SECURITY "process.security"
#define ACTION_PROCESS_REGISTER "process.registry.register"
#define ACTION_PROCESS_REGISTER_FOREIGN "process.registry.foreign"
#define ACTION_PROCESS_UNREGISTER "process.registry.unregister"

/* security (resource: the policy or group id; "custom", "with", "without";
 * the actor id) */
#define ACTION_SECURITY_POLICY_GET "security.policy.get"
#define ACTION_SECURITY_POLICY_GROUP_GET "security.policy_group.get"
#define ACTION_SECURITY_SCOPE_CREATE "security.scope.create"
#define ACTION_SECURITY_ACTOR_CREATE "security.actor.create"

/* env (resource: the key as given) */
#define ACTION_ENV_GET "env.get"
#define ACTION_ENV_SET "env.set"

#endif
