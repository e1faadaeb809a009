/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The RCU shim's public side: read sections, quiescent states, grace periods (thread.h). */
#include "rcu.h"

#include <dmar/thread.h>

dmar_status dmar_read_begin(void)
{
	if (!dmar__tls_registered)
		return DMAR_E_THREAD;
	dmar__rcu_read_lock();
	dmar__tls_read_depth++;
	return DMAR_OK;
}

void dmar_read_end(void)
{
	if (!dmar__tls_registered || dmar__tls_read_depth == 0)
		return;
	dmar__tls_read_depth--;
	dmar__rcu_read_unlock();
}

void dmar_thread_quiescent(void)
{
	if (dmar__tls_registered && dmar__tls_read_depth == 0) /* not inside a read section */
		dmar__rcu_quiescent();
}

void dmar_thread_offline(void)
{
	if (dmar__tls_registered && dmar__tls_read_depth == 0) /* inside a read section: ignored */
		dmar__rcu_offline();
}

void dmar_thread_online(void)
{
	if (dmar__tls_registered && dmar__tls_read_depth == 0)
		dmar__rcu_online();
}

void dmar_sync(void)
{
	dmar__rcu_synchronize();
}

const char *dmar_rcu_flavor(void)
{
	return DMAR__RCU_FLAVOR;
}

