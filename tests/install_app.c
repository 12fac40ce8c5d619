/*  install_app.c — a program outside the tree, built against the installed
    library with nothing but `pkg-config --cflags --libs libmutil`. */
#include <mutil.h>
#include <stdio.h>
#include <string.h>

int
main(void)
{
    mu_pipe_t *reader, *writer;
    if (mu_pipe_pair(&reader, &writer) != 0)
        return 1;
    if (mu_pipe_send(writer, "installed", 9, 0) != 0)
        return 2;
    const void *data;
    size_t size;
    int rc = mu_pipe_recv(reader, &data, &size);
    if (rc != 0 || size != 9 || memcmp(data, "installed", 9) != 0)
        return 3;
    mu_pipe_destroy(&writer);
    rc = mu_pipe_recv(reader, &data, &size);
    mu_pipe_destroy(&reader);
    printf("libmutil %s: %s\n", mu_version_string(), mu_strerror(rc));
    return rc == MU_ECLOSED ? 0 : 4;
}
