#ifndef SHMIMG_APP_H
#define SHMIMG_APP_H
int app_main(int argc, char **argv);
#endif
