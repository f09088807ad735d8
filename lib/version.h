#ifndef VN_VERSION_H
#define VN_VERSION_H
#define VN_VERSION "0.1.0"
#endif
