/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The physical memory model (design decision 2): memory map with holes, lazy backing,
 * wrapped buffers and files, the frame allocator with placement. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

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
	/* flags that contradict each other */
	r[1].kind = DMAR_RAM_LAZY;
	cfg.nranges = 2;
	r[1].flags = DMAR_RAM_ALLOCATABLE | DMAR_RAM_READONLY;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	r[1].flags = DMAR_RAM_ALLOCATABLE | DMAR_RAM_NOT_ALLOCATABLE;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	CHECK(pm == NULL);
	r[1].flags = DMAR_RAM_READONLY; /* read-only alone: created, never allocated from */
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	dmar_physmem_destroy(pm);
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

/* Create a memory of the one range @r and destroy it again: the status creation answers.
 * A refusal must hand out nothing (*out untouched). */
static dmar_status create_one(const dmar_ram_range *r, unsigned pa_bits)
{
	dmar_physmem_config cfg = { .ranges = r, .nranges = 1, .pa_bits = pa_bits };
	dmar_physmem *pm = NULL;
	dmar_status st = dmar_physmem_create(&cfg, &pm);

	if (st != DMAR_OK && pm != NULL) {
		printf("#   create answered %s but handed out a memory\n", dmar_status_str(st));
		check_failed_ = 1;
	}
	dmar_physmem_destroy(pm); /* never touched: a range past its file would raise SIGBUS */
	return st;
}

/* A temporary file of @bytes bytes (a hole), opened with @mode; -1 on failure. */
static int temp_file(uint64_t bytes, int mode)
{
	char path[] = "/tmp/dmar-physmem-XXXXXX";
	int fd = mkstemp(path), ro;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)bytes) != 0) {
		unlink(path);
		close(fd);
		return -1;
	}
	ro = open(path, mode | O_CLOEXEC);
	unlink(path);
	close(fd);
	return ro;
}

TEST(S7_file_range_longer_than_its_file_is_refused)
{
	const uint64_t P = DMAR_PAGE_SIZE;
	int fd = temp_file(4 * P, O_RDWR), empty = temp_file(0, O_RDWR);
	dmar_ram_range r = { .base = 0, .kind = DMAR_RAM_FILE, .fd = fd };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm = NULL;
	uint8_t byte = 0x5a, back = 0;

	REQUIRE(fd >= 0 && empty >= 0);
	REQUIRE(lseek(fd, 123, SEEK_SET) == 123);
	/* longer than the file, from offset 0 and from inside it */
	r.size = 8 * P;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	r.size = 4 * P;
	r.fd_offset = P;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	/* starting at or past the end of the file */
	r.size = P;
	r.fd_offset = 4 * P;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	r.fd_offset = (1ull << 62);
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	/* offsets no off_t holds, one ending exactly at 2^64 and one whose end wraps past it */
	r.fd_offset = 1ull << 63;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	r.fd_offset = 0ull - P;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	r.size = 2 * P; /* fd_offset + size wraps to P, inside the file */
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	/* an empty file holds no page */
	r.fd = empty;
	r.fd_offset = 0;
	r.size = P;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	/* the refusals read the descriptor's state only: its file offset did not move */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 123);
	/* a range that ends exactly at the end of the file is RAM up to its last byte */
	r.fd = fd;
	r.fd_offset = P;
	r.size = 3 * P;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	REQUIRE(pm);
	CHECK_ST(dmar_physmem_write(pm, 3 * P - 1, &byte, 1), DMAR_OK);
	CHECK_ST(dmar_physmem_read(pm, 3 * P - 1, &back, 1), DMAR_OK);
	CHECK_EQ(back, 0x5a);
	CHECK(pread(fd, &back, 1, (off_t)(4 * P - 1)) == 1 && back == 0x5a); /* shared */
	CHECK_ST(dmar_physmem_read(pm, 3 * P, &back, 1), DMAR_E_RANGE);
	dmar_physmem_destroy(pm);
	close(fd);
	close(empty);
}

TEST(S7_file_range_needs_a_regular_file_or_a_block_device)
{
	int zero = open("/dev/zero", O_RDWR | O_CLOEXEC), dir = open("/tmp", O_RDONLY | O_CLOEXEC);
	int pipefd[2];
	dmar_ram_range r = { .base = 0, .size = DMAR_PAGE_SIZE, .kind = DMAR_RAM_FILE };

	REQUIRE(zero >= 0 && dir >= 0 && pipe(pipefd) == 0);
	/* a character device (whose shared mapping would be anonymous memory, not a file),
	 * a directory and a pipe, writable or read-only */
	for (unsigned flags = 0; flags <= DMAR_RAM_READONLY; flags += DMAR_RAM_READONLY) {
		r.flags = flags;
		r.fd = zero;
		CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
		r.fd = dir;
		CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
		r.fd = pipefd[0];
		r.flags = flags | DMAR_RAM_READONLY;
		CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	}
	close(zero);
	close(dir);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* The ranges of one block device, of @bytes bytes, opened read-only as @fd. */
static void check_block_device(int fd, uint64_t bytes)
{
	const uint64_t P = DMAR_PAGE_SIZE, pages = bytes / P;
	dmar_ram_range r = { .base = 0, .size = P, .kind = DMAR_RAM_FILE, .fd = fd,
			     .flags = DMAR_RAM_READONLY };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm = NULL;
	uint8_t byte;

	/* the page after the device's last whole page, and a range one page too long */
	r.fd_offset = pages * P;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	if (pages == 0)
		return;
	r.fd_offset = 0;
	r.size = pages * P + P;
	CHECK_ST(create_one(&r, 0), DMAR_E_RANGE);
	/* its last whole page is RAM */
	r.fd_offset = (pages - 1) * P;
	r.size = P;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	if (pm)
		CHECK_ST(dmar_physmem_read(pm, P - 1, &byte, 1), DMAR_OK);
	dmar_physmem_destroy(pm);
}

TEST(S7_file_range_on_a_block_device_is_held_to_the_device_size)
{
	DIR *d = opendir("/dev");
	struct dirent *e;
	int seen = 0;

	REQUIRE(d);
	/* every block device this process may open read-only (there may be none) */
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		uint64_t bytes;
		int fd;

		if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISBLK(st.st_mode))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (ioctl(fd, BLKGETSIZE64, &bytes) == 0) {
			printf("# /dev/%s: %" PRIu64 " bytes\n", e->d_name, bytes);
			check_block_device(fd, bytes);
			seen++;
		}
		close(fd);
	}
	closedir(d);
	if (!seen)
		printf("# no block device can be opened here: this case checks nothing\n");
}

TEST(S7_file_descriptor_that_cannot_give_what_the_flags_ask_is_invalid)
{
	const uint64_t P = DMAR_PAGE_SIZE;
	int ro = temp_file(2 * P, O_RDONLY), wo = temp_file(2 * P, O_WRONLY);
	int path = temp_file(2 * P, O_PATH), closed = temp_file(2 * P, O_RDWR);
	int sealed = memfd_create("dmar-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	dmar_ram_range r = { .base = 0, .size = 2 * P, .kind = DMAR_RAM_FILE };

	REQUIRE(ro >= 0 && wo >= 0 && path >= 0 && closed >= 0 && sealed >= 0);
	REQUIRE(ftruncate(sealed, (off_t)(2 * P)) == 0);
	REQUIRE(fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) == 0);
	REQUIRE(close(closed) == 0);
	/* a read-only descriptor for a writable range; read-only, it is RAM */
	r.fd = ro;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.flags = DMAR_RAM_READONLY;
	CHECK_ST(create_one(&r, 0), DMAR_OK);
	/* descriptors that cannot be read: write-only, O_PATH, closed, negative */
	r.fd = wo;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.fd = path;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.fd = closed;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.fd = -1;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.fd = -2;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	/* an offset that is not page aligned */
	r.fd = ro;
	r.size = P;
	r.fd_offset = 512;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	/* a file the host will not map writable: a write-sealed memfd; read-only it maps */
	r.fd = sealed;
	r.fd_offset = 0;
	r.flags = 0;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.flags = DMAR_RAM_READONLY;
	CHECK_ST(create_one(&r, 0), DMAR_OK);
	close(ro);
	close(wo);
	close(path);
	close(sealed);
}

TEST(S7_maps_larger_than_the_host_address_space_are_nomem)
{
	/* 2 PiB: more than a 47-bit user address space (x86-64 without a hint) can reserve */
	const uint64_t huge = 1ull << 51;
	dmar_ram_range r = { .base = 0, .size = huge };
	int fd = memfd_create("dmar-huge", MFD_CLOEXEC);

	CHECK_ST(create_one(&r, 52), DMAR_E_NOMEM);
	REQUIRE(fd >= 0);
	if (ftruncate(fd, (off_t)huge) != 0) {
		printf("# a 2 PiB memfd cannot be made here: the file case checks nothing\n");
		close(fd);
		return;
	}
	r.kind = DMAR_RAM_FILE;
	r.fd = fd;
	CHECK_ST(create_one(&r, 52), DMAR_E_NOMEM);
	r.flags = DMAR_RAM_READONLY;
	CHECK_ST(create_one(&r, 52), DMAR_E_NOMEM);
	close(fd);
}

TEST(S7_malformed_maps_are_refused_and_create_nothing)
{
	const uint64_t P = DMAR_PAGE_SIZE;
	static uint8_t buf[2 * 4096] __attribute__((aligned(4096)));
	dmar_ram_range r = { .base = 0, .size = P };
	dmar_ram_range two[2] = { { .base = 0, .size = 2 * P }, { .base = 2 * P, .size = P } };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem *pm = NULL;

	/* the memory as a whole */
	CHECK_ST(dmar_physmem_create(NULL, &pm), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_create(&cfg, NULL), DMAR_E_INVALID);
	cfg.ranges = NULL;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.ranges = &r;
	cfg.nranges = 0;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.nranges = DMAR_PHYSMEM_MAX_RANGES + 1; /* refused before a range is read */
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.nranges = 1;
	cfg.pa_bits = 31;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.pa_bits = 53;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.pa_bits = 0;
	cfg.flags = 1u << 7;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	cfg.flags = 0;
	CHECK(pm == NULL);
	/* one range: empty, unaligned, unknown flags or kind */
	r.size = 0;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.size = P + 8;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.size = P;
	r.base = 8;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.base = 0;
	r.flags = 1u << 9;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.flags = 0;
	r.kind = (dmar_ram_kind)7;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	/* a buffer: NULL, unaligned, running past the top of the host's address space */
	r.kind = DMAR_RAM_BUFFER;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.host = buf + 64;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.host = (void *)(uintptr_t)(0ull - P);
	r.size = 2 * P;
	CHECK_ST(create_one(&r, 0), DMAR_E_INVALID);
	r.host = buf;
	CHECK_ST(create_one(&r, 0), DMAR_OK);
	/* beyond 2^pa_bits: starting there, crossing it, wrapping past 2^64 */
	r.kind = DMAR_RAM_LAZY;
	r.host = NULL;
	r.base = 1ull << 40;
	CHECK_ST(create_one(&r, 40), DMAR_E_RANGE);
	r.base = (1ull << 40) - P;
	CHECK_ST(create_one(&r, 40), DMAR_E_RANGE);
	r.base = 0ull - P;
	CHECK_ST(create_one(&r, 52), DMAR_E_RANGE);
	r.base = 0;
	r.size = 0ull - P; /* fits 64 bits, not 52 */
	CHECK_ST(create_one(&r, 52), DMAR_E_RANGE);
	/* a range that ends exactly at 2^pa_bits is legal */
	r.base = (1ull << 40) - 2 * P;
	r.size = 2 * P;
	CHECK_ST(create_one(&r, 40), DMAR_OK);
	/* overlapping ranges, in either order; touching ones are legal */
	cfg.ranges = two;
	cfg.nranges = 2;
	two[1].base = P;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	two[0].base = 2 * P;
	two[1].base = 0;
	two[1].size = 3 * P;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_E_INVALID);
	CHECK(pm == NULL);
	two[1].size = 2 * P;
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	dmar_physmem_destroy(pm);
	dmar_physmem_destroy(NULL); /* ignored */
}

TEST(S7_reads_and_writes_that_wrap_past_2_64_touch_nothing)
{
	dmar_physmem *pm = test_physmem(0);
	/* each range's first and last 8 bytes hold a pattern that must survive */
	const dmar_pa_t marks[] = { 0, 64 * MiB - 8, 4 * GiB, 4 * GiB + 64 * MiB - 8, TiB,
				    TiB + GiB - 8 };
	/* spans whose end, pa + len, passes 2^64 (several wrap back into RAM), and the span
	 * that ends exactly at 2^64 */
	const struct {
		dmar_pa_t pa;
		uint64_t len;
	} bad[] = {
		{ ~0ull, 1 },
		{ ~0ull - 7, 16 },
		{ 0ull - DMAR_PAGE_SIZE, DMAR_PAGE_SIZE },
		{ ~0ull, ~0ull },
		{ 8, ~0ull },                          /* ends at 7, in the first range */
		{ 0, ~0ull },
		{ 4 * GiB + 8, 0ull - 4 * GiB },       /* ends at 8 */
		{ TiB, 0ull - TiB + 16 },              /* ends at 16 */
		{ TiB + GiB - 16, 0ull - 8 },          /* ends 8 bytes before its start */
		{ 64 * MiB - 8, ~0ull - 64 * MiB + 9 },
	};
	uint8_t out[32];
	uint64_t v, pattern = 0x0123456789abcdefull;

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		CHECK_ST(dmar_physmem_write(pm, marks[i], &pattern, 8), DMAR_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0xee, sizeof(out));
		/* only the buffer's first bytes exist: a span that passed the check would fault */
		CHECK_ST(dmar_physmem_read(pm, bad[i].pa, out, bad[i].len), DMAR_E_RANGE);
		CHECK_EQ(out[0], 0xee);
		CHECK_ST(dmar_physmem_write(pm, bad[i].pa, out, bad[i].len), DMAR_E_RANGE);
		CHECK(dmar_physmem_host_ptr(pm, bad[i].pa, bad[i].len) == NULL);
		CHECK_EQ(dmar_physmem_is_ram(pm, bad[i].pa, bad[i].len), 0);
	}
	/* the patterns survived every refused write */
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		v = 0;
		CHECK_ST(dmar_physmem_read(pm, marks[i], &v, 8), DMAR_OK);
		CHECK_EQ(v, pattern);
	}
	/* length 0: nothing is copied, from a NULL buffer or at a hole alike; is_ram and
	 * host_ptr take it as 1 */
	CHECK_ST(dmar_physmem_read(pm, 0, NULL, 0), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, ~0ull, NULL, 0), DMAR_OK);
	CHECK_EQ(dmar_physmem_is_ram(pm, 64 * MiB - 1, 0), 1);
	CHECK_EQ(dmar_physmem_is_ram(pm, 64 * MiB, 0), 0);
	CHECK(dmar_physmem_host_ptr(pm, ~0ull, 0) == NULL);
	CHECK(dmar_physmem_host_ptr(pm, 64 * MiB - 1, 0) != NULL);
	/* NULL arguments */
	CHECK_ST(dmar_physmem_write(NULL, 0, &pattern, 8), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_write(pm, 0, NULL, 8), DMAR_E_INVALID);
	v = 0;
	CHECK_ST(dmar_physmem_read(pm, 0, &v, 8), DMAR_OK);
	CHECK_EQ(v, pattern);
	dmar_physmem_destroy(pm);
}

TEST(S7_ram_ends_at_its_last_byte_at_the_top_of_pa_bits_and_between_ranges)
{
	const uint64_t P = DMAR_PAGE_SIZE, top = 1ull << 52;
	const dmar_ram_range r[] = {
		{ .base = 0, .size = MiB, .flags = DMAR_RAM_NOT_ALLOCATABLE },
		{ .base = MiB, .size = MiB }, /* touches the first */
		{ .base = top - MiB, .size = MiB, .flags = DMAR_RAM_READONLY },
		{ .base = top - 4 * MiB, .size = MiB },
	};
	dmar_physmem_config cfg = { .ranges = r, .nranges = 4 };
	dmar_physmem_stats st;
	dmar_physmem *pm = NULL;
	uint64_t v = 0x1122334455667788ull;
	uint8_t out[16];
	dmar_pa_t pa;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.highest_addr, top - 1);
	CHECK_EQ(st.nranges, 4);
	CHECK(dmar_physmem_range(pm, 3) != NULL && dmar_physmem_range(pm, 3)->base == top - MiB);
	CHECK(dmar_physmem_range(pm, 4) == NULL);
	/* the last 8 bytes below 2^52 are RAM (read-only); one more byte is not */
	CHECK_ST(dmar_physmem_read(pm, top - 8, out, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_read(pm, top - 8, out, 9), DMAR_E_RANGE);
	CHECK_ST(dmar_physmem_read(pm, top, out, 1), DMAR_E_RANGE);
	CHECK_ST(dmar_physmem_write(pm, top - 8, &v, 8), DMAR_E_READONLY);
	CHECK_ST(dmar_physmem_write(pm, top - 8, &v, 9), DMAR_E_RANGE);
	CHECK(dmar_physmem_host_ptr(pm, top - 8, 8) != NULL);
	CHECK(dmar_physmem_host_ptr(pm, top - 8, 9) == NULL);
	CHECK_EQ(dmar_physmem_is_ram(pm, top - 1, 1), 1);
	CHECK_EQ(dmar_physmem_is_ram(pm, top - 1, 2), 0);
	/* a span across two touching ranges is not in one range */
	CHECK_ST(dmar_physmem_write(pm, MiB - 8, &v, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, MiB, &v, 8), DMAR_OK);
	CHECK_ST(dmar_physmem_read(pm, MiB - 8, out, 16), DMAR_E_RANGE);
	CHECK_ST(dmar_physmem_write(pm, MiB - 8, out, 16), DMAR_E_RANGE);
	CHECK(dmar_physmem_host_ptr(pm, MiB - 8, 16) == NULL);
	CHECK_EQ(dmar_physmem_is_ram(pm, MiB - 8, 16), 0);
	/* the allocator's top frame lies below the read-only range; free it exactly */
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, top - 4 * MiB, &pa), DMAR_OK);
	CHECK_EQ(pa, top - 3 * MiB - P);
	CHECK_ST(dmar_physmem_free(pm, pa, 2), DMAR_E_INVALID);  /* runs into the hole */
	CHECK_ST(dmar_physmem_free(pm, 0, 1), DMAR_E_INVALID);   /* not allocatable RAM */
	CHECK_ST(dmar_physmem_free(pm, top - P, 1), DMAR_E_INVALID); /* read-only RAM */
	CHECK_ST(dmar_physmem_free(pm, pa, 1), DMAR_OK);
	/* below 2 MiB only the second range's 256 frames are the allocator's */
	CHECK_ST(dmar_physmem_alloc(pm, 256, 12, DMAR_PLACE_BELOW, 2 * MiB, &pa), DMAR_OK);
	CHECK_EQ(pa, MiB);
	CHECK_ST(dmar_physmem_alloc(pm, 257, 12, DMAR_PLACE_BELOW, 2 * MiB, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_free(pm, MiB - P, 2), DMAR_E_INVALID); /* across the two */
	CHECK_ST(dmar_physmem_free(pm, MiB, 256), DMAR_OK);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0);
	dmar_physmem_destroy(pm);
}

TEST(S7_alloc_and_free_near_2_64_answer_their_status_and_change_nothing)
{
	const uint64_t P = DMAR_PAGE_SIZE, frames_max = 1ull << (52 - 12);
	dmar_physmem *pm = test_physmem(0);
	dmar_physmem_stats st;
	dmar_pa_t pa = 0x42, kept;
	const dmar_pa_t above[] = { ~0ull, 0ull - P + 1, 0ull - P, 1ull << 52, TiB + GiB };
	const uint64_t too_many[] = { frames_max + 1, 1ull << 52, ~0ull };

	REQUIRE(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &kept) == DMAR_OK);
	/* no frame starts at or above these (the first two would round up past 2^64) */
	for (size_t i = 0; i < sizeof(above) / sizeof(above[0]); i++) {
		pa = 0x42;
		CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, above[i], &pa),
			 DMAR_E_NOMEM);
		CHECK_EQ(pa, 0x42);
	}
	/* no frame ends at or below 4095 */
	pa = 0x42;
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_BELOW, P - 1, &pa), DMAR_E_NOMEM);
	/* as many frames as 2^52 bytes hold is a valid count that nothing fits; more is not */
	CHECK_ST(dmar_physmem_alloc(pm, frames_max, 12, DMAR_PLACE_ANY, 0, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_alloc(pm, frames_max, 30, DMAR_PLACE_BELOW, ~0ull, &pa),
		 DMAR_E_NOMEM);
	for (size_t i = 0; i < sizeof(too_many) / sizeof(too_many[0]); i++)
		CHECK_ST(dmar_physmem_alloc(pm, too_many[i], 12, DMAR_PLACE_ANY, 0, &pa),
			 DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, (dmar_placement)3, 0, &pa), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_alloc(NULL, 1, 12, DMAR_PLACE_ANY, 0, &pa), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, NULL), DMAR_E_INVALID);
	CHECK_EQ(pa, 0x42);
	/* frees past 2^64, or of counts whose bytes pass it, from a frame that is allocated */
	CHECK_ST(dmar_physmem_free(pm, 0ull - P, 1), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_free(pm, 0ull - P, 2), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_free(pm, kept, frames_max), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_free(pm, kept, 1ull << 52), DMAR_E_INVALID); /* 2^64 bytes */
	CHECK_ST(dmar_physmem_free(pm, kept, ~0ull), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_free(pm, kept, 0), DMAR_E_INVALID);
	CHECK_ST(dmar_physmem_free(NULL, kept, 1), DMAR_E_INVALID);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 1);
	/* a limit past every range places like DMAR_PLACE_ANY: the highest free frame */
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_BELOW, ~0ull, &pa), DMAR_OK);
	CHECK_EQ(pa, kept - P);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, 0, &pa), DMAR_OK);
	CHECK_EQ(pa, kept - 2 * P);
	CHECK_ST(dmar_physmem_free(pm, kept - 2 * P, 3), DMAR_OK);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0);
	dmar_physmem_destroy(pm);
}

/* physmem.h, DMAR_PHYSMEM_POISON_FREED: a freed frame is filled with 0xA5 (the frames of
 * the run that stay allocated keep their bytes) and, under AddressSanitizer, poisoned until
 * it is allocated again. */
TEST(poison_freed_fills_freed_frames_with_0xa5_until_allocated_again)
{
	const uint64_t P = DMAR_PAGE_SIZE;
	const dmar_ram_range r = { .base = 16 * MiB, .size = 4 * P };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1,
				    .flags = DMAR_PHYSMEM_POISON_FREED };
	static uint8_t page[4096], want[4096];
	dmar_physmem *pm;
	dmar_pa_t pa, again;
	uint8_t *freed;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	REQUIRE(dmar_physmem_alloc(pm, 2, 13, DMAR_PLACE_ANY, 0, &pa) == DMAR_OK);
	memset(page, 0x11, sizeof(page));
	CHECK_ST(dmar_physmem_write(pm, pa, page, P), DMAR_OK);
	CHECK_ST(dmar_physmem_write(pm, pa + P, page, P), DMAR_OK);
	CHECK_ST(dmar_physmem_free(pm, pa + P, 1), DMAR_OK); /* the run's second frame */
	freed = dmar_physmem_host_ptr(pm, pa + P, P);
	REQUIRE(freed != NULL);
	memset(want, 0xA5, sizeof(want));
#ifdef TEST_ASAN
	CHECK(__asan_region_is_poisoned(freed, P) == freed); /* from its first byte */
	CHECK(__asan_address_is_poisoned(freed + P - 1));
	ASAN_UNPOISON_MEMORY_REGION(freed, P); /* to look at it */
	CHECK(memcmp(freed, want, P) == 0);
	ASAN_POISON_MEMORY_REGION(freed, P);
	CHECK(__asan_region_is_poisoned(dmar_physmem_host_ptr(pm, pa, P), P) == NULL);
#else
	CHECK(memcmp(freed, want, P) == 0);
#endif
	/* the frame still allocated keeps what was written */
	memset(page, 0, sizeof(page));
	CHECK_ST(dmar_physmem_read(pm, pa, page, P), DMAR_OK);
	CHECK_EQ(page[0], 0x11);
	CHECK_EQ(page[P - 1], 0x11);
	/* allocated again it is usable memory (no poison left) */
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, pa + P, &again), DMAR_OK);
	CHECK_EQ(again, pa + P);
#ifdef TEST_ASAN
	CHECK(__asan_region_is_poisoned(freed, P) == NULL);
#endif
	memset(page, 0x22, sizeof(page));
	CHECK_ST(dmar_physmem_write(pm, again, page, P), DMAR_OK);
	CHECK_ST(dmar_physmem_read(pm, again, page, P), DMAR_OK);
	CHECK_EQ(page[P - 1], 0x22);
	CHECK_ST(dmar_physmem_free(pm, pa, 2), DMAR_OK);
	dmar_physmem_destroy(pm);
}

/* physmem.h, dmar_physmem_alloc: the frames are aligned to 2^align_lg2 bytes as physical
 * addresses, also in a range whose base is not aligned so (here 2 MiB + 4 KiB to 4 MiB +
 * 4 KiB: one 2 MiB-aligned frame, at 4 MiB, and no 2 MiB-aligned run of two frames). */
TEST(alloc_aligns_physical_addresses_in_a_range_with_an_unaligned_base)
{
	const uint64_t P = DMAR_PAGE_SIZE;
	const dmar_ram_range r = { .base = 2 * MiB + P, .size = 2 * MiB };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem_stats st;
	dmar_physmem *pm;
	dmar_pa_t pa = 0x42, pb = 0x42;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 22, DMAR_PLACE_ANY, 0, &pa), DMAR_OK);
	CHECK_EQ(pa, 4 * MiB);
	CHECK_ST(dmar_physmem_free(pm, pa, 1), DMAR_OK);
	pa = 0x42;
	CHECK_ST(dmar_physmem_alloc(pm, 2, 21, DMAR_PLACE_ANY, 0, &pa), DMAR_E_NOMEM);
	CHECK_EQ(pa, 0x42);
	CHECK_ST(dmar_physmem_alloc(pm, 512, 21, DMAR_PLACE_ANY, 0, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 21, DMAR_PLACE_ANY, 0, &pa), DMAR_OK);
	CHECK_EQ(pa, 4 * MiB);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 21, DMAR_PLACE_ANY, 0, &pb), DMAR_E_NOMEM);
	/* smaller alignments: aligned, inside the range */
	for (unsigned lg2 = 13; lg2 <= 20; lg2++) {
		CHECK_ST(dmar_physmem_alloc(pm, 3, lg2, DMAR_PLACE_ANY, 0, &pb), DMAR_OK);
		CHECK_EQ(pb & ((1ull << lg2) - 1), 0);
		CHECK(pb >= r.base && pb + 3 * P <= r.base + r.size);
		CHECK_ST(dmar_physmem_free(pm, pb, 3), DMAR_OK);
	}
	CHECK_ST(dmar_physmem_free(pm, pa, 1), DMAR_OK);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0);
	dmar_physmem_destroy(pm);
}

/* physmem.h, dmar_physmem_config.nranges: 1 .. DMAR_PHYSMEM_MAX_RANGES; a map of exactly
 * DMAR_PHYSMEM_MAX_RANGES ranges (given unsorted) is created, and each is RAM, in address
 * order. */
TEST(exactly_max_ranges_are_accepted)
{
	const uint64_t P = DMAR_PAGE_SIZE;
	dmar_ram_range r[DMAR_PHYSMEM_MAX_RANGES];
	dmar_physmem_config cfg = { .ranges = r, .nranges = DMAR_PHYSMEM_MAX_RANGES };
	dmar_physmem_stats st;
	dmar_physmem *pm = NULL;
	dmar_pa_t pa;

	for (unsigned i = 0; i < DMAR_PHYSMEM_MAX_RANGES; i++) /* highest first */
		r[i] = (dmar_ram_range){
			.base = (uint64_t)(DMAR_PHYSMEM_MAX_RANGES - 1 - i) * 2 * MiB, .size = 2 * P
		};
	CHECK_ST(dmar_physmem_create(&cfg, &pm), DMAR_OK);
	REQUIRE(pm);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.nranges, DMAR_PHYSMEM_MAX_RANGES);
	CHECK_EQ(st.installed_bytes, DMAR_PHYSMEM_MAX_RANGES * 2 * P);
	CHECK_EQ(st.highest_addr, (DMAR_PHYSMEM_MAX_RANGES - 1) * 2 * MiB + 2 * P - 1);
	for (unsigned i = 0; i < DMAR_PHYSMEM_MAX_RANGES; i++) {
		const dmar_ram_range *g = dmar_physmem_range(pm, i);

		CHECK(g != NULL && g->base == (uint64_t)i * 2 * MiB && g->size == 2 * P);
		CHECK_EQ(dmar_physmem_is_ram(pm, (uint64_t)i * 2 * MiB + 2 * P - 1, 1), 1);
		CHECK_EQ(dmar_physmem_is_ram(pm, (uint64_t)i * 2 * MiB + 2 * P, 1), 0);
	}
	CHECK(dmar_physmem_range(pm, DMAR_PHYSMEM_MAX_RANGES) == NULL);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ANY, 0, &pa), DMAR_OK);
	CHECK_EQ(pa, (DMAR_PHYSMEM_MAX_RANGES - 1) * 2 * MiB + P); /* the highest frame */
	CHECK_ST(dmar_physmem_free(pm, pa, 1), DMAR_OK);
	dmar_physmem_destroy(pm);
}

/* physmem.h, dmar_placement: DMAR_PLACE_ABOVE takes runs that start at or above the limit,
 * so a limit inside a frame leaves that frame out (rounds up to the next frame);
 * DMAR_PLACE_BELOW takes runs whose last byte is below the limit. */
TEST(placement_limits_that_are_not_page_aligned)
{
	const uint64_t P = DMAR_PAGE_SIZE, B = 16 * MiB;
	const dmar_ram_range r = { .base = B, .size = 3 * P };
	dmar_physmem_config cfg = { .ranges = &r, .nranges = 1 };
	dmar_physmem_stats st;
	dmar_physmem *pm;
	dmar_pa_t pa = 0x42;

	REQUIRE(dmar_physmem_create(&cfg, &pm) == DMAR_OK);
	/* above B + 1: frames 1 and 2 only */
	CHECK_ST(dmar_physmem_alloc(pm, 3, 12, DMAR_PLACE_ABOVE, B + 1, &pa), DMAR_E_NOMEM);
	CHECK_EQ(pa, 0x42);
	CHECK_ST(dmar_physmem_alloc(pm, 2, 12, DMAR_PLACE_ABOVE, B + 1, &pa), DMAR_OK);
	CHECK_EQ(pa, B + P);
	CHECK_ST(dmar_physmem_free(pm, pa, 2), DMAR_OK);
	CHECK_ST(dmar_physmem_alloc(pm, 2, 12, DMAR_PLACE_ABOVE, B + P - 1, &pa), DMAR_OK);
	CHECK_EQ(pa, B + P);
	CHECK_ST(dmar_physmem_free(pm, pa, 2), DMAR_OK);
	/* a limit inside the last frame: no frame starts at or above it */
	pa = 0x42;
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, B + 2 * P + 1, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, B + 3 * P - 1, &pa), DMAR_E_NOMEM);
	CHECK_EQ(pa, 0x42);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_ABOVE, B + 2 * P - 1, &pa), DMAR_OK);
	CHECK_EQ(pa, B + 2 * P);
	CHECK_ST(dmar_physmem_free(pm, pa, 1), DMAR_OK);
	/* below B + 2P - 1: frame 1's last byte is not below it, frame 0 is the only one */
	CHECK_ST(dmar_physmem_alloc(pm, 2, 12, DMAR_PLACE_BELOW, B + 2 * P - 1, &pa), DMAR_E_NOMEM);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_BELOW, B + 2 * P - 1, &pa), DMAR_OK);
	CHECK_EQ(pa, B);
	CHECK_ST(dmar_physmem_free(pm, pa, 1), DMAR_OK);
	CHECK_ST(dmar_physmem_alloc(pm, 1, 12, DMAR_PLACE_BELOW, B + 2 * P, &pa), DMAR_OK);
	CHECK_EQ(pa, B + P);
	CHECK_ST(dmar_physmem_free(pm, pa, 1), DMAR_OK);
	dmar_physmem_get_stats(pm, &st);
	CHECK_EQ(st.allocated_frames, 0);
	dmar_physmem_destroy(pm);
}

RUN_TESTS(T(workstation_map_has_memory_above_2_to_40),
	  T(lazy_backing_4tib_touch_100_pages_stays_small),
	  T(holes_and_out_of_range_change_nothing), T(bad_maps_are_refused),
	  T(caller_buffer_is_ram_at_its_base), T(memory_dump_file_is_walkable_read_only_ram),
	  T(allocator_placement_any_below_above), T(allocator_exhaustion_and_full_reuse),
	  T(status_and_fault_names), T(S7_file_range_longer_than_its_file_is_refused),
	  T(S7_file_range_needs_a_regular_file_or_a_block_device),
	  T(S7_file_range_on_a_block_device_is_held_to_the_device_size),
	  T(S7_file_descriptor_that_cannot_give_what_the_flags_ask_is_invalid),
	  T(S7_maps_larger_than_the_host_address_space_are_nomem),
	  T(S7_malformed_maps_are_refused_and_create_nothing),
	  T(S7_reads_and_writes_that_wrap_past_2_64_touch_nothing),
	  T(S7_ram_ends_at_its_last_byte_at_the_top_of_pa_bits_and_between_ranges),
	  T(S7_alloc_and_free_near_2_64_answer_their_status_and_change_nothing),
	  T(poison_freed_fills_freed_frames_with_0xa5_until_allocated_again),
	  T(alloc_aligns_physical_addresses_in_a_range_with_an_unaligned_base),
	  T(exactly_max_ranges_are_accepted), T(placement_limits_that_are_not_page_aligned))
