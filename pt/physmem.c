/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rcu.h"

#include "physmem_internal.h"
#include "range.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#if defined(__SANITIZE_ADDRESS__)
#define DMAR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DMAR_ASAN 1
#endif
#endif
#ifdef DMAR_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define PAGE DMAR_PAGE_SIZE
#define GiB (1ull << 30)
#define TiB (1ull << 40)
/* frames in 2^52 bytes: no memory has more, so npages * PAGE below it never wraps */
#define FRAMES_MAX (1ull << (DMAR_PA_BITS_MAX - DMAR_PAGE_4K_LG2))

/* The default map: two NUMA nodes of about 1 TiB, the legacy and PCI holes, and a gap at
 * 1 TiB, so the top of RAM (0x2107fffffff) is far beyond a 40-bit device's reach (S14). */
static const dmar_ram_range workstation_ranges[] = {
	{ .base = 0, .size = 0x9f000, .flags = DMAR_RAM_NOT_ALLOCATABLE },
	{ .base = 0x100000, .size = 2 * GiB - 0x100000 },
	{ .base = 4 * GiB, .size = TiB - 4 * GiB },
	{ .base = TiB + 64 * GiB, .size = TiB + 2 * GiB },
};

void dmar_physmem_config_workstation(dmar_physmem_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->ranges = workstation_ranges;
	cfg->nranges = sizeof(workstation_ranges) / sizeof(workstation_ranges[0]);
	cfg->pa_bits = DMAR_PA_BITS_MAX;
}

/* The last byte of a range of the map (validated: below 2^pa_bits, never wraps). */
static dmar_pa_t range_last(const struct pm_range *r)
{
	return r->base + (r->size - 1);
}

static int cmp_base(const void *a, const void *b)
{
	const struct pm_range *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

static int allocatable(const dmar_ram_range *d)
{
	if (d->flags & (DMAR_RAM_NOT_ALLOCATABLE | DMAR_RAM_READONLY))
		return 0;
	return d->kind == DMAR_RAM_LAZY || (d->flags & DMAR_RAM_ALLOCATABLE);
}

/* A file range must be readable, writable when the range is, and lie inside its file:
 * mmap maps a range past the end of a file without complaint, and the first access there
 * kills the process with SIGBUS.  Only the descriptor's state is read (no seek). */
static dmar_status check_file(const dmar_ram_range *d)
{
	struct stat st;
	uint64_t bytes;
	int mode;

	if (d->fd < 0 || d->fd_offset % PAGE)
		return DMAR_E_INVALID;
	mode = fcntl(d->fd, F_GETFL);
	if (mode < 0 || fstat(d->fd, &st) != 0 || (mode & O_PATH))
		return DMAR_E_INVALID;
	mode &= O_ACCMODE;
	if (mode == O_WRONLY || (mode == O_RDONLY && !(d->flags & DMAR_RAM_READONLY)))
		return DMAR_E_INVALID;
	/* a regular file or a block device has a size to check against; anything else
	 * (a character device, a pipe) either maps no file or has no end to check */
	if (S_ISREG(st.st_mode))
		bytes = (uint64_t)st.st_size;
	else if (!S_ISBLK(st.st_mode) || ioctl(d->fd, BLKGETSIZE64, &bytes) != 0)
		return DMAR_E_INVALID;
	if (bytes == 0 || !dmar__range_within(d->fd_offset, d->size, 0, bytes - 1))
		return DMAR_E_RANGE;
	return DMAR_OK;
}

static dmar_status validate(const dmar_physmem_config *cfg, unsigned pa_bits)
{
	const unsigned known = DMAR_RAM_READONLY | DMAR_RAM_ALLOCATABLE | DMAR_RAM_NOT_ALLOCATABLE;
	dmar_status st;
	uint64_t last;

	if (!cfg->ranges || cfg->nranges == 0 || cfg->nranges > DMAR_PHYSMEM_MAX_RANGES)
		return DMAR_E_INVALID;
	if (pa_bits < 32 || pa_bits > DMAR_PA_BITS_MAX || (cfg->flags & ~DMAR_PHYSMEM_POISON_FREED))
		return DMAR_E_INVALID;
	for (size_t i = 0; i < cfg->nranges; i++) {
		const dmar_ram_range *d = &cfg->ranges[i];

		/* flags that contradict each other: the allocator hands out frames to write
		 * tables into, so a read-only range is never one it may use */
		if (d->size == 0 || (d->base | d->size) % PAGE || (d->flags & ~known) ||
		    ((d->flags & DMAR_RAM_ALLOCATABLE) &&
		     (d->flags & (DMAR_RAM_NOT_ALLOCATABLE | DMAR_RAM_READONLY))))
			return DMAR_E_INVALID;
		if (!dmar__range_within(d->base, d->size, 0, (1ull << pa_bits) - 1))
			return DMAR_E_RANGE;
		switch (d->kind) {
		case DMAR_RAM_LAZY:
			break;
		case DMAR_RAM_BUFFER:
			if (!d->host || (uintptr_t)d->host % PAGE ||
			    !dmar__range_last((uintptr_t)d->host, d->size, &last))
				return DMAR_E_INVALID;
			break;
		case DMAR_RAM_FILE:
			st = check_file(d);
			if (st != DMAR_OK)
				return st;
			break;
		default:
			return DMAR_E_INVALID;
		}
	}
	return DMAR_OK;
}

static dmar_status back_range(struct dmar_physmem *pm, struct pm_range *r)
{
	const dmar_ram_range *d = &r->desc;
	int prot = PROT_READ | ((d->flags & DMAR_RAM_READONLY) ? 0 : PROT_WRITE);
	void *p;

	switch (d->kind) {
	case DMAR_RAM_BUFFER:
		r->host = d->host;
		break;
	case DMAR_RAM_FILE:
		/* check_file() vouched for the descriptor and the size: what mmap still refuses
		 * is address space (ENOMEM) or a file the host will not map as asked (EPERM of
		 * a write-sealed memfd, ENODEV of a file system without mmap) */
		p = mmap(NULL, d->size, prot, MAP_SHARED, d->fd, (off_t)d->fd_offset);
		if (p == MAP_FAILED)
			return errno == ENOMEM ? DMAR_E_NOMEM : DMAR_E_INVALID;
		r->host = p;
		r->map_len = d->size;
		break;
	default:
		/* shared, so that a CPU mapping of scattered pages can alias them
		 * (dmar__physmem_alias); still reserved lazily */
		p = mmap(NULL, d->size, prot, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return DMAR_E_NOMEM;
		r->host = p;
		r->map_len = d->size;
		break;
	}
	if (allocatable(d)) {
		r->used = calloc(1, sizeof(*r->used));
		if (!r->used || dmar_hbm_init(r->used, d->size / PAGE) != 0)
			return DMAR_E_NOMEM;
	}
	(void)pm;
	return DMAR_OK;
}

dmar_status dmar_physmem_create(const dmar_physmem_config *cfg, dmar_physmem **out)
{
	struct dmar_physmem *pm;
	unsigned pa_bits;
	dmar_status st;

	if (!cfg || !out)
		return DMAR_E_INVALID;
	pa_bits = cfg->pa_bits ? cfg->pa_bits : DMAR_PA_BITS_MAX;
	st = validate(cfg, pa_bits);
	if (st != DMAR_OK)
		return st;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return DMAR_E_NOMEM;
	pm->pa_bits = pa_bits;
	pm->flags = cfg->flags;
	pm->nranges = (unsigned)cfg->nranges;
	for (unsigned i = 0; i < pm->nranges; i++) {
		pm->r[i].desc = cfg->ranges[i];
		pm->r[i].base = cfg->ranges[i].base;
		pm->r[i].size = cfg->ranges[i].size;
	}
	qsort(pm->r, pm->nranges, sizeof(pm->r[0]), cmp_base);
	for (unsigned i = 1; i < pm->nranges; i++) {
		/* sorted by base, so a range overlaps another only if it meets the one before */
		if (dmar__ranges_meet(pm->r[i - 1].base, range_last(&pm->r[i - 1]), pm->r[i].base,
				      range_last(&pm->r[i]))) {
			free(pm);
			return DMAR_E_INVALID;
		}
	}
	pthread_mutex_init(&pm->alloc_lock, NULL);
	for (unsigned i = 0; i < pm->nranges; i++) {
		st = back_range(pm, &pm->r[i]);
		if (st != DMAR_OK) {
			dmar_physmem_destroy(pm);
			return st;
		}
	}
	*out = pm;
	return DMAR_OK;
}

void dmar_physmem_destroy(dmar_physmem *pm)
{
	if (!pm)
		return;
	for (unsigned i = 0; i < pm->nranges; i++) {
		struct pm_range *r = &pm->r[i];

		/* only what was poisoned: unpoisoning terabytes would write their whole shadow */
		if (r->poison_hi > r->poison_lo)
			UNPOISON(r->host + r->poison_lo, r->poison_hi - r->poison_lo);
		if (r->map_len)
			munmap(r->host, r->map_len);
		if (r->used) {
			dmar_hbm_fini(r->used);
			free(r->used);
		}
	}
	pthread_mutex_destroy(&pm->alloc_lock);
	free(pm);
}

void *dmar_physmem_host_ptr(const dmar_physmem *pm, dmar_pa_t pa, uint64_t len)
{
	const struct pm_range *r;

	if (__builtin_expect(pm == NULL, 0))
		return NULL;
	r = dmar__pm_find(pm, pa, len ? len : 1, NULL);
	return r ? r->host + (pa - r->base) : NULL;
}

int dmar_physmem_is_ram(const dmar_physmem *pm, dmar_pa_t pa, uint64_t len)
{
	return pm && dmar__pm_find(pm, pa, len ? len : 1, NULL) != NULL;
}

dmar_status dmar_physmem_read(const dmar_physmem *pm, dmar_pa_t pa, void *buf, uint64_t len)
{
	const struct pm_range *r;

	if (!pm || (!buf && len))
		return DMAR_E_INVALID;
	if (len == 0)
		return DMAR_OK;
	r = dmar__pm_find(pm, pa, len, NULL);
	if (!r)
		return DMAR_E_RANGE;
	memcpy(buf, r->host + (pa - r->base), len);
	return DMAR_OK;
}

dmar_status dmar_physmem_write(dmar_physmem *pm, dmar_pa_t pa, const void *buf, uint64_t len)
{
	const struct pm_range *r;

	if (!pm || (!buf && len))
		return DMAR_E_INVALID;
	if (len == 0)
		return DMAR_OK;
	r = dmar__pm_find(pm, pa, len, NULL);
	if (!r)
		return DMAR_E_RANGE;
	if (r->desc.flags & DMAR_RAM_READONLY)
		return DMAR_E_READONLY;
	memcpy(r->host + (pa - r->base), buf, len);
	return DMAR_OK;
}

/* Frame window [lo, hi) of range r that placement allows, and that ends at or below the
 * byte @cap, in frame numbers of r.  The limit is compared with the range's first and last
 * byte and only then taken as an offset into it, so a limit near 2^64 is never rounded up
 * past it. */
static int window(const struct pm_range *r, dmar_placement place, dmar_pa_t limit,
		  dmar_pa_t cap, uint64_t *lo, uint64_t *hi)
{
	*lo = 0;
	*hi = r->size / PAGE;
	if (cap < range_last(r)) {
		if (cap < r->base)
			return 0;
		*hi = (cap - r->base + 1) / PAGE;
	}
	if (place == DMAR_PLACE_BELOW && limit <= range_last(r)) {
		/* frames that end at or below limit */
		if (limit < r->base)
			return 0;
		if ((limit - r->base) / PAGE < *hi)
			*hi = (limit - r->base) / PAGE;
	}
	if (place == DMAR_PLACE_ABOVE && limit > r->base) {
		/* frames that start at or above limit */
		if (limit > range_last(r))
			return 0;
		*lo = (limit - r->base + PAGE - 1) / PAGE;
	}
	return *lo < *hi;
}

dmar_status dmar_physmem_alloc(dmar_physmem *pm, uint64_t npages, unsigned align_lg2,
			       dmar_placement place, dmar_pa_t limit, dmar_pa_t *out)
{
	return dmar__physmem_alloc_capped(pm, npages, align_lg2, place, limit, UINT64_MAX, out);
}

dmar_status dmar__physmem_alloc_capped(dmar_physmem *pm, uint64_t npages, unsigned align_lg2,
				       dmar_placement place, dmar_pa_t limit, dmar_pa_t cap,
				       dmar_pa_t *out)
{
	dmar_status st = DMAR_E_NOMEM;
	uint64_t align;

	if (!pm || !out || npages == 0 || npages > FRAMES_MAX ||
	    align_lg2 < DMAR_PAGE_4K_LG2 || align_lg2 > DMAR_PAGE_1G_LG2 || place > DMAR_PLACE_ABOVE)
		return DMAR_E_INVALID;
	align = 1ull << (align_lg2 - DMAR_PAGE_4K_LG2);
	dmar__lock(&pm->alloc_lock);
	for (unsigned i = pm->nranges; i-- > 0;) {
		struct pm_range *r = &pm->r[i];
		uint64_t lo, hi;
		int64_t s;

		if (!r->used || !window(r, place, limit, cap, &lo, &hi))
			continue;
		s = dmar_hbm_find_run_down(r->used, lo, hi, npages, align,
					   (r->base / PAGE) & (align - 1));
		if (s < 0)
			continue;
		dmar_hbm_set_range(r->used, (uint64_t)s, npages);
		pm->allocated_frames += npages;
		*out = r->base + (uint64_t)s * PAGE;
		if (pm->flags & DMAR_PHYSMEM_POISON_FREED)
			UNPOISON(r->host + (uint64_t)s * PAGE, npages * PAGE);
		st = DMAR_OK;
		break;
	}
	dmar__unlock(&pm->alloc_lock);
	return st;
}

dmar_status dmar_physmem_free(dmar_physmem *pm, dmar_pa_t pa, uint64_t npages)
{
	const struct pm_range *r;
	uint64_t first;

	if (!pm || npages == 0 || pa % PAGE || npages > FRAMES_MAX)
		return DMAR_E_INVALID;
	/* a run past 2^64 lies in no range: dmar__pm_find compares offsets, never pa + len */
	r = dmar__pm_find(pm, pa, npages * PAGE, NULL);
	if (!r || !r->used)
		return DMAR_E_INVALID;
	first = (pa - r->base) / PAGE;
	dmar__lock(&pm->alloc_lock);
	if (!dmar_hbm_all_set(r->used, first, npages)) {
		dmar__unlock(&pm->alloc_lock);
		return DMAR_E_INVALID;
	}
	if (pm->flags & DMAR_PHYSMEM_POISON_FREED) {
		struct pm_range *w = (struct pm_range *)r;

		memset(r->host + first * PAGE, 0xA5, npages * PAGE);
		POISON(r->host + first * PAGE, npages * PAGE);
		if (w->poison_hi == w->poison_lo)
			w->poison_lo = first * PAGE;
		if (first * PAGE < w->poison_lo)
			w->poison_lo = first * PAGE;
		if ((first + npages) * PAGE > w->poison_hi)
			w->poison_hi = (first + npages) * PAGE;
	}
	dmar_hbm_clear_range(r->used, first, npages);
	pm->allocated_frames -= npages;
	dmar__unlock(&pm->alloc_lock);
	return DMAR_OK;
}

void dmar_physmem_get_stats(const dmar_physmem *pm, dmar_physmem_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!pm)
		return;
	st->nranges = pm->nranges;
	st->pa_bits = pm->pa_bits;
	for (unsigned i = 0; i < pm->nranges; i++) {
		st->installed_bytes += pm->r[i].size;
		if (pm->r[i].used)
			st->allocatable_bytes += pm->r[i].size;
	}
	st->highest_addr = range_last(&pm->r[pm->nranges - 1]);
	st->allocated_frames = __atomic_load_n(&pm->allocated_frames, __ATOMIC_RELAXED);
}

const dmar_ram_range *dmar_physmem_range(const dmar_physmem *pm, unsigned i)
{
	return pm && i < pm->nranges ? &pm->r[i].desc : NULL;
}

/* ---- CPU views of scattered pages (the WDDM layer's CPU mappings, S24) ---------------- */

dmar_status dmar__physmem_alias(const struct dmar_physmem *pm, const dmar_pa_t *pages, uint64_t n,
				int writable, void **out)
{
	uint8_t *va;

	if (!pm || !pages || !out || n == 0 || n > (SIZE_MAX >> 13))
		return DMAR_E_INVALID;
	for (uint64_t i = 0; i < n; i++) {
		const struct pm_range *r = dmar__pm_find(pm, pages[i], PAGE, NULL);

		if (pages[i] & (PAGE - 1) || !r)
			return DMAR_E_RANGE;
		if (r->desc.kind == DMAR_RAM_BUFFER)
			return DMAR_E_NOT_SUPPORTED; /* a private buffer cannot be aliased */
		if (writable && (r->desc.flags & DMAR_RAM_READONLY))
			return DMAR_E_READONLY;
	}
	va = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (va == MAP_FAILED)
		return DMAR_E_NOMEM;
	for (uint64_t i = 0; i < n;) {
		const struct pm_range *r = dmar__pm_find(pm, pages[i], PAGE, NULL);
		uint64_t run = 1;

		/* one mremap per physically contiguous run inside one range */
		while (i + run < n && pages[i + run] == pages[i] + run * PAGE &&
		       pages[i + run] - r->base < r->size)
			run++;
		if (mremap(r->host + (pages[i] - r->base), 0, run * PAGE,
			   MREMAP_MAYMOVE | MREMAP_FIXED, va + i * PAGE) == MAP_FAILED) {
			munmap(va, n * PAGE);
			return DMAR_E_NOMEM;
		}
		i += run;
	}
	if (!writable && mprotect(va, n * PAGE, PROT_READ) != 0) {
		munmap(va, n * PAGE);
		return DMAR_E_NOMEM;
	}
	*out = va;
	return DMAR_OK;
}

void dmar__physmem_unalias(void *va, uint64_t n)
{
	if (va)
		munmap(va, n * PAGE);
}

dmar_status dmar__physmem_zero(const struct dmar_physmem *pm, dmar_pa_t pa, uint64_t len)
{
	const struct pm_range *r = dmar__pm_find(pm, pa, len, NULL);

	if (!r)
		return DMAR_E_RANGE;
	if (r->desc.flags & DMAR_RAM_READONLY)
		return DMAR_E_READONLY;
	/* a lazy range is shared anonymous memory: punching a hole reads back as zeros and
	 * gives the host memory back, without touching a byte */
	if (r->desc.kind == DMAR_RAM_LAZY && !((pa | len) & (PAGE - 1)) &&
	    madvise(r->host + (pa - r->base), len, MADV_REMOVE) == 0)
		return DMAR_OK;
	memset(r->host + (pa - r->base), 0, len);
	return DMAR_OK;
}
