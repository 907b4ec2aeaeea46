/* Which process generation we are in: the count of fork()s this process
 * went through as the child. State made under another generation belongs
 * to a parent process (its threads are not here, its random sequence would
 * repeat), so its owner can tell and refuse or renew it. */
#ifndef MP_COMMON_FORK_H
#define MP_COMMON_FORK_H

/* The current generation; the first call registers the fork handler. */
unsigned mp__fork_generation(void);

#endif
