/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dmar/status.h>
#include <dmar/version.h>

static const char *const status_names[DMAR_STATUS_COUNT] = {
	[DMAR_OK] = "DMAR_OK",
	[DMAR_E_INVALID] = "DMAR_E_INVALID",
	[DMAR_E_NOMEM] = "DMAR_E_NOMEM",
	[DMAR_E_EXISTS] = "DMAR_E_EXISTS",
	[DMAR_E_RANGE] = "DMAR_E_RANGE",
	[DMAR_E_FAULT] = "DMAR_E_FAULT",
	[DMAR_E_READONLY] = "DMAR_E_READONLY",
	[DMAR_E_NOT_SUPPORTED] = "DMAR_E_NOT_SUPPORTED",
	[DMAR_E_BUSY] = "DMAR_E_BUSY",
	[DMAR_E_THREAD] = "DMAR_E_THREAD",
	[DMAR_E_NOT_FOUND] = "DMAR_E_NOT_FOUND",
};

static const char *const fault_names[DMAR_FAULT_COUNT] = {
	[DMAR_FAULT_NONE] = "none",
	[DMAR_FAULT_NOT_PRESENT] = "not-present",
	[DMAR_FAULT_WRITE] = "write-to-read-only",
	[DMAR_FAULT_USER] = "user-to-supervisor",
	[DMAR_FAULT_EXEC] = "execute-disabled",
	[DMAR_FAULT_ADDR_WIDTH] = "beyond-address-width",
	[DMAR_FAULT_NONCANONICAL] = "non-canonical",
	[DMAR_FAULT_RESERVED] = "reserved-bits",
	[DMAR_FAULT_TABLE_ADDR] = "table-not-in-memory",
	[DMAR_FAULT_DEVICE_WIDTH] = "beyond-device-width",
	[DMAR_FAULT_EXCLUSIVE] = "exclusive-access",
	[DMAR_FAULT_NO_DOMAIN] = "no-domain",
	[DMAR_FAULT_PASID] = "pasid-not-bound",
};

const char *dmar_status_str(dmar_status s)
{
	if ((unsigned)s < DMAR_STATUS_COUNT && status_names[s])
		return status_names[s];
	return "DMAR_E_UNKNOWN";
}

const char *dmar_fault_str(dmar_fault f)
{
	if ((unsigned)f < DMAR_FAULT_COUNT && fault_names[f])
		return fault_names[f];
	return "unknown";
}

const char *dmar_version(void)
{
	return DMAR_VERSION_STRING;
}
