// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vaddr "three regions" (spec §3.8) as a pure function, with the
 * vectors of the kernel's vaddr kunit suite (spec §9.2), and their
 * application to a target through damon_set_regions().
 */
#include "../lib/tap.h"

#include "ops/ops-common.h"

#include <errno.h>

static void test_three_regions_in_vmas(void)
{
	/*
	 * 10-20-25, 200-210-220, 300-305, 307-330: the gaps 25-200 and
	 * 220-300 are the two biggest, 305-307 is not.
	 */
	static const struct damon_addr_range vmas[] = {
		{ 10, 20 },   { 20, 25 },   { 200, 210 },
		{ 210, 220 }, { 300, 305 }, { 307, 330 },
	};
	struct damon_addr_range r[3] = { { 0, 0 } };

	REQUIRE(damon_three_regions_of_vmas(vmas, TAP_NR(vmas), 1, r) == 0);
	CHECK_EQ(r[0].start, 10);
	CHECK_EQ(r[0].end, 25);
	CHECK_EQ(r[1].start, 200);
	CHECK_EQ(r[1].end, 220);
	CHECK_EQ(r[2].start, 300);
	CHECK_EQ(r[2].end, 330);
}

/* The biggest gap comes last: gaps are ordered by address, not size. */
static void test_three_regions_gap_order(void)
{
	static const struct damon_addr_range vmas[] = {
		{ 0, 10 }, { 20, 30 }, { 31, 40 }, { 1000, 1010 }
	};
	struct damon_addr_range r[3];

	REQUIRE(damon_three_regions_of_vmas(vmas, TAP_NR(vmas), 1, r) == 0);
	CHECK_EQ(r[0].start, 0);
	CHECK_EQ(r[0].end, 10);
	CHECK_EQ(r[1].start, 20);
	CHECK_EQ(r[1].end, 40);
	CHECK_EQ(r[2].start, 1000);
	CHECK_EQ(r[2].end, 1010);
}

/* Equal gaps: the earlier ones win (a later gap must be larger). */
static void test_three_regions_equal_gaps(void)
{
	static const struct damon_addr_range vmas[] = {
		{ 0, 10 }, { 20, 30 }, { 40, 50 }, { 60, 70 }
	};
	struct damon_addr_range r[3];

	REQUIRE(damon_three_regions_of_vmas(vmas, TAP_NR(vmas), 1, r) == 0);
	CHECK_EQ(r[0].end, 10);
	CHECK_EQ(r[1].start, 20);
	CHECK_EQ(r[1].end, 30);
	CHECK_EQ(r[2].start, 40);
	CHECK_EQ(r[2].end, 70);
}

static void test_three_regions_align(void)
{
	static const struct damon_addr_range vmas[] = {
		{ 0x1000, 0x2800 },
		{ 0x10100, 0x12000 },
		{ 0x80000, 0x80010 },
	};
	struct damon_addr_range r[3];

	REQUIRE(damon_three_regions_of_vmas(vmas, TAP_NR(vmas), 4096, r) == 0);
	/* Every bound is rounded up, as the kernel does. */
	CHECK_EQ(r[0].start, 0x1000);
	CHECK_EQ(r[0].end, 0x3000);
	CHECK_EQ(r[1].start, 0x11000);
	CHECK_EQ(r[1].end, 0x12000);
	CHECK_EQ(r[2].start, 0x80000);
	CHECK_EQ(r[2].end, 0x81000);
}

static void test_three_regions_fail(void)
{
	static const struct damon_addr_range two[] = { { 0, 10 }, { 20, 30 } };
	static const struct damon_addr_range adjacent[] = {
		{ 0, 10 }, { 10, 20 }, { 20, 30 }, { 40, 50 }
	};
	static const struct damon_addr_range overlap[] = {
		{ 0, 10 }, { 5, 20 }, { 30, 40 }, { 50, 60 }
	};
	struct damon_addr_range r[3] = { { 1, 2 }, { 3, 4 }, { 5, 6 } };

	CHECK_EQ(damon_three_regions_of_vmas(two, 0, 1, r), -EINVAL);
	CHECK_EQ(damon_three_regions_of_vmas(two, 1, 1, r), -EINVAL);
	CHECK_EQ(damon_three_regions_of_vmas(two, 2, 1, r), -EINVAL);
	/* Only one non-empty gap. */
	CHECK_EQ(damon_three_regions_of_vmas(adjacent, 4, 1, r), -EINVAL);
	CHECK_EQ(damon_three_regions_of_vmas(overlap, 4, 1, r), -EINVAL);
	/* Failure leaves the output alone. */
	CHECK_EQ(r[0].start, 1);
	CHECK_EQ(r[2].end, 6);
}

static struct damon_target *target_of(const unsigned long *bounds, int nr)
{
	struct damon_target *t = damon_new_target();
	int i;

	if (!t)
		return NULL;
	for (i = 0; i < nr / 2; i++) {
		struct damon_region *r =
			damon_new_region(bounds[i * 2], bounds[i * 2 + 1]);

		if (!r) {
			damon_destroy_target(t, NULL);
			return NULL;
		}
		damon_add_region(r, t);
	}
	return t;
}

static void check_regions(struct damon_target *t, const unsigned long *want,
			  unsigned int nr)
{
	struct damon_region *r;
	unsigned int i = 0;

	CHECK_EQ(damon_nr_regions(t), nr / 2);
	damon_for_each_region(r, t) {
		if (i + 1 >= nr)
			break;
		CHECK_EQ(r->ar.start, want[i]);
		CHECK_EQ(r->ar.end, want[i + 1]);
		i += 2;
	}
	CHECK_EQ(i, nr);
}

/* 10-20-30, 50-55-57-59, 70-80-90-100: the starting regions of §3.8. */
static const unsigned long old_regions[] = { 10, 20, 20, 30, 50, 55, 55, 57,
					     57, 59, 70, 80, 80, 90, 90, 100 };

static void do_apply(const struct damon_addr_range three[3],
		     const unsigned long *want, unsigned int nr_want)
{
	struct damon_target *t = target_of(old_regions, TAP_NR(old_regions));
	struct damon_region *r;

	REQUIRE(t);
	/* Mark what existed, to see that kept regions keep their state. */
	damon_for_each_region(r, t)
		r->age = 7;
	REQUIRE(damon_set_regions(t, (struct damon_addr_range *)three, 3, 1) ==
		0);
	check_regions(t, want, nr_want);
	damon_destroy_target(t, NULL);
}

/* Small change: boundaries adjust, 57-59 falls out. */
static void test_apply_three_regions1(void)
{
	static const struct damon_addr_range three[3] = { { 5, 27 },
							  { 45, 55 },
							  { 73, 104 } };
	static const unsigned long want[] = { 5,  20, 20, 27, 45, 55,
					      73, 80, 80, 90, 90, 104 };

	do_apply(three, want, TAP_NR(want));
}

/* The second region now needs 50-55 and 57-59 removed. */
static void test_apply_three_regions2(void)
{
	static const struct damon_addr_range three[3] = { { 5, 27 },
							  { 56, 57 },
							  { 65, 104 } };
	static const unsigned long want[] = { 5,  20, 20, 27, 56, 57,
					      65, 80, 80, 90, 90, 104 };

	do_apply(three, want, TAP_NR(want));
}

/* The second region moved elsewhere entirely (50-59 to 61-63). */
static void test_apply_three_regions3(void)
{
	static const struct damon_addr_range three[3] = { { 5, 27 },
							  { 61, 63 },
							  { 65, 104 } };
	static const unsigned long want[] = { 5,  20, 20, 27, 61, 63,
					      65, 80, 80, 90, 90, 104 };

	do_apply(three, want, TAP_NR(want));
}

/* The second and third regions both moved (to 30-32 and 65-68). */
static void test_apply_three_regions4(void)
{
	static const struct damon_addr_range three[3] = { { 5, 7 },
							  { 30, 32 },
							  { 65, 68 } };
	static const unsigned long want[] = { 5, 7, 30, 32, 65, 68 };

	do_apply(three, want, TAP_NR(want));
}

/* From VMAs to regions in one step, keeping what overlaps. */
static void test_apply_three_regions_of_vmas(void)
{
	static const struct damon_addr_range vmas[] = {
		{ 10, 20 },   { 20, 25 },   { 200, 210 },
		{ 210, 220 }, { 300, 305 }, { 307, 330 },
	};
	static const unsigned long first[] = { 10, 25, 200, 220, 300, 330 };
	static const unsigned long want[] = { 10,  25,	200, 220,
					      300, 320, 320, 330 };
	struct damon_target *t = damon_new_target();
	struct damon_region *r;

	REQUIRE(t);
	/* An empty target gets the three regions. */
	REQUIRE(damon_apply_three_regions(t, vmas, TAP_NR(vmas), 1) == 0);
	check_regions(t, first, TAP_NR(first));

	damon_destroy_target(t, NULL);

	/* Split regions with state: re-applying keeps both. */

	t = target_of(want, TAP_NR(want));
	REQUIRE(t);
	damon_for_each_region(r, t)
		r->age = 3;
	REQUIRE(damon_apply_three_regions(t, vmas, TAP_NR(vmas), 1) == 0);
	check_regions(t, want, TAP_NR(want));
	damon_for_each_region(r, t)
		CHECK_EQ(r->age, 3);

	/* Failure leaves the target untouched. */
	CHECK_EQ(damon_apply_three_regions(t, vmas, 2, 1), -EINVAL);
	check_regions(t, want, TAP_NR(want));
	damon_destroy_target(t, NULL);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_three_regions_in_vmas),
	TAP_CASE(test_three_regions_gap_order),
	TAP_CASE(test_three_regions_equal_gaps),
	TAP_CASE(test_three_regions_align),
	TAP_CASE(test_three_regions_fail),
	TAP_CASE(test_apply_three_regions1),
	TAP_CASE(test_apply_three_regions2),
	TAP_CASE(test_apply_three_regions3),
	TAP_CASE(test_apply_three_regions4),
	TAP_CASE(test_apply_three_regions_of_vmas),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
