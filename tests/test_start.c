/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The adapter start decision: S9, S11, S14, S16, S17, S27. */
#include "check.h"

#define TiB (1ull << 40)

/* A 40-bit discrete GPU on the 2 TiB workstation, fully able to be remapped. */
static dmar_start_params base(void)
{
	dmar_start_params p = {
		.iommu_supported = true,
		.remap_caps_physical = true,
		.remap_caps_vidmm = true,
		.caps_before_start = true,
		.dma_remapping_compatible = DMAR_DMA_REMAPPING_COMPATIBLE,
		.integrated = false,
		.dma_bits = 40,
		.highest_installed = 0x2107fffffffull,
		.platform_iommu = true,
	};
	return p;
}

static dmar_start_decision decide(const dmar_start_params *p, dmar_status want)
{
	dmar_start_decision d;

	CHECK_ST(dmar_start_decide(p, &d), want);
	return d;
}

TEST(S14_40_bit_discrete_gpu_on_2_tib_starts_remapped_below_1_tib)
{
	dmar_start_params p = base();
	dmar_start_decision d = decide(&p, DMAR_OK);

	CHECK_EQ(d.mode, DMAR_START_REMAPPED);
	CHECK_EQ(d.reason, DMAR_WHY_REMAPPING);
	CHECK_EQ(d.logical_limit, TiB);
	CHECK(d.domain && d.attached && d.remap_possible && !d.map_all_memory);
}

TEST(S14_the_logical_limit_is_the_device_reach_for_every_width)
{
	dmar_start_params p = base();
	dmar_start_decision d;

	for (unsigned bits = 32; bits <= 64; bits++) {
		p.dma_bits = bits;
		d = decide(&p, DMAR_OK);
		CHECK_EQ(d.mode, DMAR_START_REMAPPED);
		/* 2^bits; 2^64 has no 64-bit number: the last address instead */
		CHECK_EQ(d.logical_limit, bits == 64 ? UINT64_MAX : 1ull << bits);
	}
	p.dma_remapping_compatible = 0; /* not remapped: no logical limit */
	p.highest_installed = TiB - 1;
	p.dma_bits = 40;
	d = decide(&p, DMAR_OK);
	CHECK_EQ(d.mode, DMAR_START_PASSTHROUGH);
	CHECK_EQ(d.logical_limit, 0);
}

TEST(S14_without_remapping_a_device_that_cannot_reach_memory_does_not_start)
{
	dmar_start_params p = base();
	dmar_start_decision d;

	p.integrated = true;
	p.dma_remapping_compatible = 0;
	d = decide(&p, DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(d.mode, DMAR_START_FAILED);
	CHECK_EQ(d.reason, DMAR_WHY_CANNOT_REACH_MEMORY);
	p.highest_installed = TiB - 1; /* everything below 1 TiB: it starts */
	d = decide(&p, DMAR_OK);
	CHECK_EQ(d.mode, DMAR_START_PASSTHROUGH);
	CHECK_EQ(d.reason, DMAR_WHY_DEFAULT);
	p.highest_installed = TiB; /* the first byte beyond 40 bits */
	d = decide(&p, DMAR_E_NOT_SUPPORTED);
	p.dma_bits = 64;
	d = decide(&p, DMAR_OK);
}

TEST(S16_discrete_gpu_without_remapping_fails_above_its_reach)
{
	dmar_start_params p = base();
	dmar_start_decision d;

	p.remap_caps_vidmm = false;
	d = decide(&p, DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(d.reason, DMAR_WHY_DISCRETE_NO_REMAPPING);
	/* AllowFailure is about forced enablement, not about reach */
	p.iommu_flags = DMAR_IOMMUF_ALLOW_FAILURE;
	d = decide(&p, DMAR_E_NOT_SUPPORTED);
	/* an integrated GPU may lack remapping (optional, recommended) when it reaches all */
	p.integrated = true;
	p.highest_installed = (1ull << 39) - 1;
	d = decide(&p, DMAR_OK);
	CHECK_EQ(d.mode, DMAR_START_PASSTHROUGH);
}

TEST(S17_both_cap_sets_known_before_start_and_no_memory_referenced)
{
	for (int i = 0; i < 5; i++) {
		dmar_start_params p = base();
		dmar_start_decision d;

		p.highest_installed = (1ull << 39) - 1; /* reachable: fails to remap, still starts */
		switch (i) {
		case 0: p.remap_caps_physical = false; break;
		case 1: p.remap_caps_vidmm = false; break;
		case 2: p.caps_before_start = false; break;
		case 3: p.references_memory = true; break;
		default: p.platform_iommu = false; break;
		}
		d = decide(&p, DMAR_OK);
		CHECK(!d.remap_possible);
		CHECK_EQ(d.mode, DMAR_START_PASSTHROUGH);
	}
}

TEST(S27_only_dma_remapping_compatible_3_opts_in)
{
	static const uint32_t values[] = { 0, 1, 2, 4, 0xffffffffu };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		dmar_start_params p = base();
		dmar_start_decision d;

		p.dma_remapping_compatible = values[i];
		d = decide(&p, DMAR_E_NOT_SUPPORTED); /* discrete, 2 TiB, no remapping */
		CHECK(!d.remap_possible);
	}
}

TEST(S9_iommu_flags_depend_on_each_other)
{
	static const struct {
		uint32_t flags;
		bool driver;
		dmar_start_mode mode;
		dmar_start_reason why;
		bool domain, all, attached;
	} cases[] = {
		{ 0, true, DMAR_START_PASSTHROUGH, DMAR_WHY_DEFAULT, false, false, false },
		{ 0x01, true, DMAR_START_PASSTHROUGH, DMAR_WHY_POLICY_NOT_ATTACHED, true, false, false },
		{ 0x02, true, DMAR_START_PASSTHROUGH, DMAR_WHY_DEFAULT, false, false, false },
		{ 0x06, true, DMAR_START_PASSTHROUGH, DMAR_WHY_DEFAULT, false, false, false },
		{ 0x05, true, DMAR_START_PASSTHROUGH, DMAR_WHY_POLICY_NOT_ATTACHED, true, false, false },
		{ 0x03, true, DMAR_START_PASSTHROUGH, DMAR_WHY_POLICY_NOT_ATTACHED, true, true, false },
		{ 0x07, true, DMAR_START_ISOLATION, DMAR_WHY_POLICY_ISOLATION, true, true, true },
		/* no driver support, no BypassDriverCap: the enable bits are ignored */
		{ 0x07, false, DMAR_START_PASSTHROUGH, DMAR_WHY_DEFAULT, false, false, false },
		{ 0x0f, false, DMAR_START_ISOLATION, DMAR_WHY_POLICY_ISOLATION, true, true, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dmar_start_params p = base();
		dmar_start_decision d;

		p.dma_remapping_compatible = 0; /* no remapping: the policy decides */
		p.highest_installed = (1ull << 39) - 1;
		p.iommu_flags = cases[i].flags;
		p.iommu_supported = cases[i].driver;
		d = decide(&p, DMAR_OK);
		if (d.mode != cases[i].mode || d.reason != cases[i].why || d.domain != cases[i].domain ||
		    d.map_all_memory != cases[i].all || d.attached != cases[i].attached) {
			printf("#   case %zu (flags %#x, driver %d): mode %d %s\n", i, cases[i].flags,
			       cases[i].driver, d.mode, dmar_start_reason_str(d.reason));
			CHECK(0);
		}
	}
}

TEST(S9_allow_failure_only_for_forced_enablement)
{
	dmar_start_params p = base();
	dmar_start_decision d;

	p.dma_remapping_compatible = 0;
	p.highest_installed = (1ull << 39) - 1;
	p.platform_iommu = false;
	p.iommu_flags = 0x07;
	d = decide(&p, DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(d.reason, DMAR_WHY_NO_PLATFORM_IOMMU);
	p.iommu_flags = 0x17;
	d = decide(&p, DMAR_OK);
	CHECK_EQ(d.mode, DMAR_START_PASSTHROUGH);
	CHECK_EQ(d.reason, DMAR_WHY_FAILURE_ALLOWED);
	CHECK(!d.domain);
}

TEST(S11_secure_vm_activates_the_iommu_and_needs_driver_support)
{
	dmar_start_params p = base();
	dmar_start_decision d;

	p.dma_remapping_compatible = 0;
	p.highest_installed = (1ull << 39) - 1;
	p.secure_vm = true;
	d = decide(&p, DMAR_OK);
	CHECK_EQ(d.mode, DMAR_START_ISOLATION);
	CHECK_EQ(d.reason, DMAR_WHY_SECURE_VM);
	CHECK(d.attached && !d.map_all_memory);
	/* the policy's EnableMappings (with Enabled) maps all of memory as well */
	p.iommu_flags = DMAR_IOMMUF_ENABLED | DMAR_IOMMUF_ENABLE_MAPPINGS;
	d = decide(&p, DMAR_OK);
	CHECK(d.mode == DMAR_START_ISOLATION && d.reason == DMAR_WHY_SECURE_VM);
	CHECK(d.attached && d.map_all_memory);
	p.iommu_flags = DMAR_IOMMUF_ENABLE_MAPPINGS; /* without Enabled it does not count */
	d = decide(&p, DMAR_OK);
	CHECK(d.mode == DMAR_START_ISOLATION && !d.map_all_memory);
	p.iommu_flags = 0;
	/* a device that can be remapped is remapped */
	p.dma_remapping_compatible = DMAR_DMA_REMAPPING_COMPATIBLE;
	d = decide(&p, DMAR_OK);
	CHECK_EQ(d.mode, DMAR_START_REMAPPED);
	/* one that can neither be remapped nor reach all memory does not start (S14) */
	p.dma_remapping_compatible = 0;
	p.highest_installed = 1ull << 41;
	d = decide(&p, DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(d.reason, DMAR_WHY_DISCRETE_NO_REMAPPING);
	p.highest_installed = (1ull << 39) - 1;
	p.iommu_supported = false;
	p.iommu_flags = DMAR_IOMMUF_ALLOW_FAILURE | DMAR_IOMMUF_BYPASS_DRIVER_CAP | 0x07;
	d = decide(&p, DMAR_E_NOT_SUPPORTED); /* AllowFailure cannot override S11 */
	CHECK_EQ(d.reason, DMAR_WHY_SECURE_VM_NO_DRIVER);
	p.iommu_supported = true;
	p.platform_iommu = false;
	d = decide(&p, DMAR_E_NOT_SUPPORTED);
	CHECK_EQ(d.reason, DMAR_WHY_NO_PLATFORM_IOMMU);
}

TEST(bad_parameters_are_refused)
{
	dmar_start_params p = base();
	dmar_start_decision d;

	p.dma_bits = 31;
	CHECK_ST(dmar_start_decide(&p, &d), DMAR_E_INVALID);
	p.dma_bits = 65;
	CHECK_ST(dmar_start_decide(&p, &d), DMAR_E_INVALID);
	p.dma_bits = 40;
	p.iommu_flags = 0x20;
	CHECK_ST(dmar_start_decide(&p, &d), DMAR_E_INVALID);
	CHECK_ST(dmar_start_decide(NULL, &d), DMAR_E_INVALID);
	/* a refusal leaves the decision as it was */
	memset(&d, 0x5a, sizeof(d));
	p.iommu_flags = 0x20;
	CHECK_ST(dmar_start_decide(&p, &d), DMAR_E_INVALID);
	CHECK_EQ(((const uint8_t *)&d)[0], 0x5a);
	CHECK_EQ(((const uint8_t *)&d)[sizeof(d) - 1], 0x5a);
	CHECK(strcmp(dmar_start_reason_str((dmar_start_reason)-1), "unknown") == 0);
	for (int r = 0; r < DMAR_WHY_COUNT; r++)
		CHECK(strcmp(dmar_start_reason_str((dmar_start_reason)r), "unknown") != 0);
	CHECK(strcmp(dmar_start_reason_str(DMAR_WHY_COUNT), "unknown") == 0);
}

RUN_TESTS(T(S14_40_bit_discrete_gpu_on_2_tib_starts_remapped_below_1_tib),
	  T(S14_the_logical_limit_is_the_device_reach_for_every_width),
	  T(S14_without_remapping_a_device_that_cannot_reach_memory_does_not_start),
	  T(S16_discrete_gpu_without_remapping_fails_above_its_reach),
	  T(S17_both_cap_sets_known_before_start_and_no_memory_referenced),
	  T(S27_only_dma_remapping_compatible_3_opts_in), T(S9_iommu_flags_depend_on_each_other),
	  T(S9_allow_failure_only_for_forced_enablement),
	  T(S11_secure_vm_activates_the_iommu_and_needs_driver_support),
	  T(bad_parameters_are_refused))
