/* SPDX-License-Identifier: LGPL-2.1-or-later */
/** @file dmar.h @brief Everything: include this or the single headers under dmar/. */
#ifndef DMAR_H
#define DMAR_H
#include <dmar/version.h>
#include <dmar/status.h>
#include <dmar/types.h>
#include <dmar/physmem.h>
#include <dmar/pgtable.h>
#include <dmar/thread.h>
#include <dmar/iotlb.h>
#include <dmar/fault.h>
#include <dmar/iommu.h>
#include <dmar/start.h>
#include <dmar/iova.h>
#include <dmar/remap.h>
#include <dmar/dmagen.h>
#endif
