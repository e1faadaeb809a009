/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

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
	[DMAR_E_NOSPACE] = "DMAR_E_NOSPACE",
	[DMAR_E_DEPRECATED] = "DMAR_E_DEPRECATED",
	[DMAR_E_IRQL] = "DMAR_E_IRQL",
};

/* Status -> NTSTATUS -> status: every dmar_status has one NTSTATUS, and the table read
 * backwards gives the status of each NTSTATUS (first match). */
static const struct {
	dmar_status st;
	uint32_t nt;
	const char *name;
} nt_map[] = {
	{ DMAR_OK, DMAR_NT_SUCCESS, "STATUS_SUCCESS" },
	{ DMAR_E_INVALID, DMAR_NT_INVALID_PARAMETER, "STATUS_INVALID_PARAMETER" },
	{ DMAR_E_NOMEM, DMAR_NT_NO_MEMORY, "STATUS_NO_MEMORY" },
	{ DMAR_E_EXISTS, DMAR_NT_CONFLICTING_ADDRESSES, "STATUS_CONFLICTING_ADDRESSES" },
	{ DMAR_E_RANGE, DMAR_NT_INVALID_ADDRESS, "STATUS_INVALID_ADDRESS" },
	{ DMAR_E_FAULT, DMAR_NT_ACCESS_VIOLATION, "STATUS_ACCESS_VIOLATION" },
	{ DMAR_E_READONLY, DMAR_NT_MEDIA_WRITE_PROTECTED, "STATUS_MEDIA_WRITE_PROTECTED" },
	{ DMAR_E_NOT_SUPPORTED, DMAR_NT_NOT_SUPPORTED, "STATUS_NOT_SUPPORTED" },
	{ DMAR_E_BUSY, DMAR_NT_DEVICE_BUSY, "STATUS_DEVICE_BUSY" },
	{ DMAR_E_THREAD, DMAR_NT_INVALID_THREAD, "STATUS_INVALID_THREAD" },
	{ DMAR_E_NOT_FOUND, DMAR_NT_NOT_FOUND, "STATUS_NOT_FOUND" },
	{ DMAR_E_NOSPACE, DMAR_NT_INSUFFICIENT_RESOURCES, "STATUS_INSUFFICIENT_RESOURCES" },
	{ DMAR_E_DEPRECATED, DMAR_NT_ILLEGAL_FUNCTION, "STATUS_ILLEGAL_FUNCTION" },
	{ DMAR_E_IRQL, DMAR_NT_INVALID_DEVICE_STATE, "STATUS_INVALID_DEVICE_STATE" },
	/* only in the NTSTATUS -> status direction */
	{ DMAR_E_NOT_SUPPORTED, DMAR_NT_NOT_IMPLEMENTED, "STATUS_NOT_IMPLEMENTED" },
};

uint32_t dmar_status_to_ntstatus(dmar_status s)
{
	for (size_t i = 0; i < sizeof(nt_map) / sizeof(nt_map[0]); i++)
		if (nt_map[i].st == s)
			return nt_map[i].nt;
	return DMAR_NT_INVALID_PARAMETER;
}

dmar_status dmar_status_from_ntstatus(uint32_t nt)
{
	for (size_t i = 0; i < sizeof(nt_map) / sizeof(nt_map[0]); i++)
		if (nt_map[i].nt == nt)
			return nt_map[i].st;
	return (nt >> 30) <= 1 ? DMAR_OK : DMAR_E_INVALID; /* severity success/informational */
}

const char *dmar_ntstatus_str(uint32_t nt)
{
	for (size_t i = 0; i < sizeof(nt_map) / sizeof(nt_map[0]); i++)
		if (nt_map[i].nt == nt)
			return nt_map[i].name;
	return "STATUS_<unknown>";
}

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
	[DMAR_FAULT_APERTURE] = "aperture-page-unmapped",
	[DMAR_FAULT_READ] = "read-of-write-only",
	[DMAR_FAULT_AD] = "accessed-dirty-update",
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
