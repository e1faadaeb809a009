/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The physical memory model (issue: foundation): memory map with holes, lazy backing,
 * wrapped buffers and files, the frame allocator with placement. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

TEST(workstation_map_has_memory_above_2_to_40)
{
	dmar_physmem_config cfg;
	dmar_physmem_stats st;
	dmar_physmem *pm;
	uint64_t v = 0x1122334455667788ull, back = 0;

	dmar_physmem_config_workstation(&cfg);
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	REQUIRE(pm);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.nranges, 4);
	CHECK(st.installed_bytes > TiB);
	CHECK_EQ(st.installed_bytes, 2 * TiB - MiB + 0x9f000);
	CHECK_EQ(st.highest_addr, 0x2107fffffffull);
	CHECK(st.highest_addr >= (1ull << 41));
	/* high memory is ordinary RAM */
	CHECK_ST(dmar_physmem_write(pm, 0x20000000000ull, &v, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_read(pm, 0x20000000000ull, &back, 8), DMAR_OK);
	CHECK_EQ(back, v);
	/* the PCI hole, the legacy hole and the NUMA gap are holes */
	CHECK_ST(dmar_physmem_read(pm, 3 * GiB, &back, 8), DMAR_E_RANGE);
	CHECK_ST(dmar_physmem_read(pm, 0xa0000, &back, 8), DMAR_E_RANGE);
	CHECK_ST(dmar_physmem_read(pm, TiB + GiB, &back, 8), DMAR_E_RANGE);
	CHECK(!dmar_physmem_is_ram(pm, TiB, 8));
	CHECK(dmar_physmem_is_ram(pm, TiB - 8, 8));
	dmar_physmem_destroy(pm);
}

TEST(lazy_backing_4tib_touch_100_pages_stays_small)
{
	const dmar_ram_range r = { .base = TiB, .size = 4 * TiB };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm;
	uint64_t before, after;

	before = rss_bytes();
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	REQUIRE(pm);
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t pa = TiB + i * (4 * TiB / 100) / DMAR_PAGE_SIZE * DMAR_PAGE_SIZE;
		uint8_t byte = (uint8_t)i;

		CHECK_ST(dmar_physmem_write(pm, pa, &byte, 1), DMAR_OK);
	}
	/* and the allocator's bitmap for 2^30 frames is lazy too */
	for (int i = 0; i < 100; i++) {
		dmar_pa_t pa;

		CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &pa), DMAR_OK);
	}
	after = rss_bytes();
	printf("# RSS before %" PRIu64 " KiB, after 4 TiB map + 100 pages: %" PRIu64 " KiB\n",
	       before >> 10, after >> 10);
	/* 100 data pages + a few bitmap pages + host page tables: well under 4 MiB */
	CHECK(after - before < 4 * MiB);
	dmar_physmem_destroy(pm);
}

TEST(holes_and_out_of_range_change_nothing)
{
	dmar_physmem *pm = test_physmem(0);
	uint8_t buf[64], pattern[64];

	memset(pattern, 0x5c, sizeof(pattern));
	memset(buf, 0xee, sizeof(buf));
	/* a write that runs 8 bytes past the end of the first range writes nothing */
	CHECK_ST(dmar_physmem_write(pm, 64 * MiB - 56, pattern, 64), DMAR_E_RANGE);
	CHECK_ST(dmar_physmem_read(pm, 64 * MiB - 56, buf, 56), DMAR_OK);
	for (int i = 0; i < 56; i++)
		CHECK_EQ(buf[i], 0);
	memset(buf, 0xee, sizeof(buf));
	CHECK_ST(dmar_physmem_read(pm, 64 * MiB, buf, 8), DMAR_E_RANGE);
	CHECK_EQ(buf[0], 0xee); /* untouched */
	CHECK_ST(dmar_physmem_read(pm, (1ull << 52) - 8, buf, 8), DMAR_E_RANGE);
	CHECK_ST(dmar_physmem_read(pm, ~0ull - 3, buf, 8), DMAR_E_RANGE); /* wraps */
	CHECK(dmar_physmem_host_ptr(pm, 64 * MiB, 1) == NULL);
	CHECK(dmar_physmem_host_ptr(pm, 4 * GiB - 1, 2) == NULL);
	CHECK(dmar_physmem_host_ptr(pm, 4 * GiB, 4096) != NULL);
	CHECK(dmar_physmem_host_ptr(pm, TiB + GiB - 8, 16) == NULL); /* straddles the end */
	CHECK_ST(dmar_physmem_read(NULL, 0, buf, 8), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_read(pm, 0, NULL, 8), DMAR_E_INVALID);
	dmar_physmem_destroy(pm);
}

TEST(bad_maps_are_refused)
{
	dmar_physmem *pm = NULL;
	dmar_ram_range r[2] = { { .base = 0, .size = 2 * MiB }, { .base = MiB, .size = 2 * MiB } };
	dmar_physmem_config cfg = { .ranges = r, .nranges = 2 };

	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID); /* overlap */
	r[1].base = 4 * MiB + 1;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID); /* unaligned */
	r[1].base = 1ull << 52;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_RANGE); /* beyond 2^52 */
	r[1].base = (1ull << 46) - MiB;
	cfg.pa_bits = 46;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_RANGE); /* crosses 2^46 */
	cfg.pa_bits = 53;
	r[1].base = 8 * MiB;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.pa_bits = 0;
	r[1].kind = DMAR_RAM_BUFFER; /* without a buffer */
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.nranges = 0;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	CHECK(pm == NULL);
}

TEST(caller_buffer_is_ram_at_its_base)
{
	const size_t len = 1 * MiB;
	uint8_t *guest = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dmar_ram_range r[2] = {
		{ .base = 0x80000000, .size = len, .kind = DMAR_RAM_BUFFER, .host = guest },
		{ .base = 0x90000000, .size = len, .kind = DMAR_RAM_BUFFER, .host = guest,
		  .flags = DMAR_RAM_READONLY },
	};
	dmar_physmem_config cfg = { .ranges = r, .nranges = 2 };
	dmar_physmem *pm;
	uint32_t v = 0xfeedc0de, w = 0;
	dmar_pa_t pa;

	REQUIRE(guest != MAP_FAILED);
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	REQUIRE(pm);
	CHECK_ST(dmar_physmem_write(pm, 0x80000000 + 0x1234, &v, 4), DMAR_OK);
	CHECK_EQ(*(uint32_t *)(guest + 0x1234), v); /* the emulator sees it in its RAM */
	CHECK(dmar_physmem_host_ptr(pm, 0x80000000 + 0x1234, 4) == guest + 0x1234);
	CHECK_ST(dmar_physmem_read(pm, 0x90000000 + 0x1234, &w, 4), DMAR_OK);
	CHECK_EQ(w, v);
	CHECK_ST(dmar_physmem_write(pm, 0x90000000, &v, 4), DMAR_E_READONLY);
	CHECK_EQ(*(uint32_t *)guest, 0);
	/* guest RAM is the guest's: the allocator never hands it out */
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &pa), DMAR_E_NOMEM);
	dmar_physmem_destroy(pm);
	munmap(guest, len);
}

TEST(memory_dump_file_is_walkable_read_only_ram)
{
	/* A "dump": a 4-level table at 0x1000 mapping VA 0x40201000 -> 0x7654321000. */
	char path[] = "/tmp/dmar-dump-XXXXXX";
	int fd = mkstemp(path);
	uint64_t page[512];
	dmar_physmem *pm;
	dmar_walk_result res;
	const dmar_pt_format fmt = { .levels = 4 };
	const uint64_t va = 0x40201000ull;

	REQUIRE(fd >= 0);
	unlink(path);
	REQUIRE(ftruncate(fd, 8 * DMAR_PAGE_SIZE) == 0);
	memset(page, 0, sizeof(page));
	page[0] = 0x2000 | DMAR_PTE_P | DMAR_PTE_RW; /* PML4[0] -> 0x2000 */
	REQUIRE(pwrite(fd, page, sizeof(page), 0x1000) == sizeof(page));
	page[0] = 0;
	page[1] = 0x3000 | DMAR_PTE_P | DMAR_PTE_RW; /* PDPT[1] -> 0x3000 */
	REQUIRE(pwrite(fd, page, sizeof(page), 0x2000) == sizeof(page));
	page[1] = 0x4000 | DMAR_PTE_P | DMAR_PTE_RW; /* PD[1] -> 0x4000 */
	REQUIRE(pwrite(fd, page, sizeof(page), 0x3000) == sizeof(page));
	page[1] = 0x7654321000ull | DMAR_PTE_P; /* PT[1], read-only */
	REQUIRE(pwrite(fd, page, sizeof(page), 0x4000) == sizeof(page));
	{
		dmar_ram_range r = { .base = 0, .size = 8 * DMAR_PAGE_SIZE, .kind = DMAR_RAM_FILE,
				     .fd = fd, .flags = DMAR_RAM_READONLY };
		dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };

		CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	}
	close(fd); /* the mapping keeps the file */
	REQUIRE(pm);
	CHECK_ST(dmar_walk(pm, 0x1000, &fmt, va + 0x10, DMAR_ACCESS_READ, &res), DMAR_OK);
	CHECK_EQ(res.pa, 0x7654321010ull);
	CHECK_EQ(res.page_lg2, 12);
	CHECK_ST(dmar_walk(pm, 0x1000, &fmt, va, DMAR_ACCESS_WRITE, &res), DMAR_E_FAULT);
	CHECK_EQ(res.fault, DMAR_FAULT_WRITE);
	CHECK_ST(dmar_physmem_write(pm, 0x1000, page, 8), DMAR_E_READONLY);
	dmar_physmem_destroy(pm);
}

TEST(allocator_placement_any_below_above)
{
	dmar_physmem *pm = test_physmem(0);
	dmar_physmem_stats st;
	dmar_pa_t pa, above;

	/* any: highest free frames first, like memblock */
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &pa), DMAR_OK);
	CHECK_EQ(pa, TiB + GiB - DMAR_PAGE_SIZE);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_BELOW, 4 * GiB + 64 * MiB, &pa), DMAR_OK);
	CHECK_EQ(pa, 4 * GiB + 64 * MiB - DMAR_PAGE_SIZE);
	CHECK_ST(dmar_physmem_alloc(pm, 4, 12, DMAR_PLACE_BELOW, 4 * GiB, &pa), DMAR_OK);
	CHECK_EQ(pa, 64 * MiB - 4 * DMAR_PAGE_SIZE);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, TiB + GiB, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, 4 * GiB, &above), DMAR_OK);
	CHECK_EQ(above, TiB + GiB - 2 * DMAR_PAGE_SIZE);
	/* aligned runs: a 2 MiB-aligned 512-frame run and a 1 GiB-aligned one */
	CHECK_ST(dmar_physmem_alloc(pm, 512, 21, DMAR_PLACE_BELOW, 64 * MiB, &pa), DMAR_OK);
	CHECK_EQ(pa % (2 * MiB), 0);
	CHECK_EQ(pa, 60 * MiB); /* the top 2 MiB block has 4 used frames */
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 1 + 1 + 4 + 1 + 512);
	CHECK_ST(dmar_physmem_alloc(pm, 262144, 30, DMAR_PLACE_ANY, 0, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_free(pm, TiB + GiB - DMAR_PAGE_SIZE, 1), DMAR_OK);
	CHECK_ST(dmar_physmem_alloc(pm, 262144, 30, DMAR_PLACE_ANY, 0, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_free(pm, above, 1), DMAR_OK);
	CHECK_ST(dmar_physmem_alloc(pm, 262144, 30, DMAR_PLACE_ANY, 0, &pa), DMAR_OK);
	CHECK_EQ(pa, TiB);
	/* bad input changes nothing */
	dmar_physmem_get_stats(pm, &st);
	CHECK_ST(dmar_physmem_free(pm, TiB + GiB, 1), DMAR_E_INVALID);          /* hole */
	CHECK_ST(dmar_physmem_free(pm, 8 * MiB, 1), DMAR_E_INVALID);            /* not allocated */
	CHECK_ST(dmar_physmem_free(pm, 60 * MiB, 513), DMAR_E_INVALID);         /* one too many */
	CHECK_ST(dmar_physmem_free(pm, 60 * MiB + 1, 1), DMAR_E_INVALID);       /* unaligned */
	CHECK_ST(dmar_physmem_alloc(pm, 0, 12, DMAR_PLACE_ANY, 0, &pa), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 11, DMAR_PLACE_ANY, 0, &pa), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 31, DMAR_PLACE_ANY, 0, &pa), DMAR_E_INVALID);
	{
		dmar_physmem_stats st2;

		dmar_physmem_get_stats(pm, &st2);
		CHECK_EQ(st2.allocated_frames, st.allocated_frames);
	}
	dmar_physmem_destroy(pm);
}

TEST(allocator_exhaustion_and_full_reuse)
{
	const dmar_ram_range r = { .base = 16 * MiB, .size = 1 * MiB };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm;
	dmar_pa_t pa[256], extra;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 256; i++)
			CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &pa[i]), DMAR_OK);
		CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &extra), DMAR_E_NOMEM);
		for (int i = 0; i < 256; i++)
			CHECK_ST(dmar_physmem_free(pm, pa[i], 1), DMAR_OK);
		CHECK_ST(dmar_physmem_free(pm, pa[0], 1), DMAR_E_INVALID); /* double free */
	}
	CHECK_ST(dmar_physmem_alloc(pm, 256, 12, DMAR_PLACE_ANY, 0, &extra), DMAR_OK);
	CHECK_EQ(extra, 16 * MiB);
	dmar_physmem_destroy(pm);
}

TEST(status_and_fault_names)
{
	CHECK(strcmp(dmar_status_str(DMAR_E_RANGE), "DMAR_E_RANGE") == 0);
	CHECK(strcmp(dmar_status_str((dmar_status)999), "DMAR_E_UNKNOWN") == 0);
	CHECK(strcmp(dmar_fault_str(DMAR_FAULT_NOT_PRESENT), "not-present") == 0);
	for (int s = 0; s < DMAR_STATUS_COUNT; s++)
		CHECK(strncmp(dmar_status_str((dmar_status)s), "DMAR_", 5) == 0);
	for (int f = 0; f < DMAR_FAULT_COUNT; f++)
		CHECK(strcmp(dmar_fault_str((dmar_fault)f), "unknown") != 0);
}

RUN_TESTS(T(workstation_map_has_memory_above_2_to_40),
	  T(lazy_backing_4tib_touch_100_pages_stays_small),
	  T(holes_and_out_of_range_change_nothing), T(bad_maps_are_refused),
	  T(caller_buffer_is_ram_at_its_base), T(memory_dump_file_is_walkable_read_only_ram),
	  T(allocator_placement_any_below_above), T(allocator_exhaustion_and_full_reuse),
	  T(status_and_fault_names))
