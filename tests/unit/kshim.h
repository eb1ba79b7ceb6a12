/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the little kernel API that
 * guest/pvrecover/notice.c uses, so the unit tests build that very file.
 */
#ifndef _PVR_KSHIM_H
#define _PVR_KSHIM_H

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

#define BIT(nr)		(1UL << (nr))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline u16 le16_to_cpu(__le16 x)
{
	return le16toh((__u16)x);
}

static inline u32 le32_to_cpu(__le32 x)
{
	return le32toh((__u32)x);
}

static inline __le16 cpu_to_le16(u16 x)
{
	return (__le16)htole16(x);
}

static inline __le32 cpu_to_le32(u32 x)
{
	return (__le32)htole32(x);
}

#endif /* _PVR_KSHIM_H */
