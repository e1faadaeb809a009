/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* placeholder, replaced below */
int main(void) { return 0; }
