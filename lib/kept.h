/* kept.h - the one lock that guards what a process keeps between logins
 * (the compiled policy, the store directory): the PAM module stays in its
 * host for good (-z nodelete) and may be called from several threads. */
#ifndef GARDE_KEPT_H
#define GARDE_KEPT_H

/* Takes and gives the lock. A fork while another thread holds it waits for
 * it (pthread_atfork), so that a child never inherits a lock nobody will
 * give back; it is held for a few instructions at a time. */
void kept_lock(void);
void kept_unlock(void);

#endif
