/* SPDX-License-Identifier: LGPL-2.1-or-later */
/** @file dmar/export.h @brief Symbol visibility: only what carries DMAR_API is exported. */
#ifndef DMAR_EXPORT_H
#define DMAR_EXPORT_H

/** Marks a function as part of the public API: exported from the shared library (every
 *  other symbol is hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define DMAR_API __attribute__((visibility("default")))
#else
#define DMAR_API
#endif

#endif
