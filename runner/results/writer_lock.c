/* writer_lock.c: the busy mark of a results file being written (an OFD lock). */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "results/writer_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static struct flock first_byte(short type)
{
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = type;
    l.l_whence = SEEK_SET;
    l.l_start = 0;
    l.l_len = 1;
    return l;
}

int writer_lock_take(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    struct flock l = first_byte(F_WRLCK);
    if (fcntl(fd, F_OFD_SETLK, &l) != 0) {
        int e = errno == EACCES ? EAGAIN : errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

bool writer_lock_busy(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct flock l = first_byte(F_WRLCK);
    bool busy = fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
    close(fd);
    return busy;
}
