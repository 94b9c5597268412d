/* kept.c - the lock of what a process keeps between logins (kept.h). */
#include "kept.h"

#include <pthread.h>

static pthread_mutex_t kept_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void kept_take(void)
{
	pthread_mutex_lock(&kept_mutex);
}

static void kept_give(void)
{
	pthread_mutex_unlock(&kept_mutex);
}

static void atfork_register(void)
{
	pthread_atfork(kept_take, kept_give, kept_give);
}

void kept_lock(void)
{
	pthread_once(&atfork_once, atfork_register);
	kept_take();
}

void kept_unlock(void)
{
	kept_give();
}
