/*
 * testsupport.h - helpers shared by the cmocka tests: temporary directories
 * under /tmp that are removed afterwards.
 */
#ifndef CM_TESTSUPPORT_H
#define CM_TESTSUPPORT_H

/** Make a fresh directory /tmp/donthu-<tag>.XXXXXX; caller frees the path
 * (and removes the tree with cm_test_rmrf). Aborts on failure. */
char *cm_test_tmpdir(const char *tag);

/** Remove a directory tree (like rm -rf); ignores errors. */
void cm_test_rmrf(const char *path);

/** Write text to dir/name; aborts on failure. */
void cm_test_write_file(const char *dir, const char *name, const char *text);

#endif
