// Typed entry points for libcurl's variadic curl_easy_setopt / curl_easy_getinfo.
//
// Why this exists: Swift cannot call C variadic functions, and curl_easy_setopt and
// curl_easy_getinfo are variadic (their third argument is a long, a pointer, a curl_off_t
// or a function pointer depending on the option). Each function here fixes one argument
// kind, so Swift sees an ordinary typed C function. This is the same approach as
// swift-corelibs-foundation's CFURLSession_easy_setopt_long/_ptr/_int64. If Swift ever
// gains C variadic calls, this target can go.
//
// Only the Swift `Curl` module imports this header.
#ifndef NESTLAB_CCURLSHIMS_H
#define NESTLAB_CCURLSHIMS_H

#include <curl/curl.h>

#pragma clang assume_nonnull begin

// MARK: callback types (the shapes libcurl calls back with)

/// CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION: `size * nitems` bytes at `buffer`.
typedef size_t (*nestlab_curl_data_callback)(char *buffer, size_t size, size_t nitems,
                                             void *_Nullable userdata);

/// CURLOPT_XFERINFOFUNCTION: return non-zero to abort the transfer.
typedef int (*nestlab_curl_xferinfo_callback)(void *_Nullable clientp, curl_off_t dltotal,
                                              curl_off_t dlnow, curl_off_t ultotal,
                                              curl_off_t ulnow);

// MARK: curl_easy_setopt, one function per argument kind

/// Options taking a `long` (CURLOPTTYPE_LONG, including booleans and enums).
CURLcode nestlab_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);

/// Options taking a `curl_off_t` (CURLOPTTYPE_OFF_T, e.g. CURLOPT_RESUME_FROM_LARGE).
CURLcode nestlab_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

/// Options taking a C string (CURLOPTTYPE_STRINGPOINT). libcurl copies the string.
/// NULL resets the option to its default.
CURLcode nestlab_curl_easy_setopt_string(CURL *handle, CURLoption option,
                                         const char *_Nullable value);

/// Options taking an object pointer (CURLOPTTYPE_OBJECTPOINT / CBPOINT, e.g.
/// CURLOPT_WRITEDATA, CURLOPT_ERRORBUFFER). libcurl does NOT copy what it points to.
CURLcode nestlab_curl_easy_setopt_ptr(CURL *handle, CURLoption option, void *_Nullable value);

/// Options taking a `struct curl_slist *` (CURLOPT_HTTPHEADER, CURLOPT_RESOLVE). The list
/// must outlive the transfer.
CURLcode nestlab_curl_easy_setopt_slist(CURL *handle, CURLoption option,
                                        struct curl_slist *_Nullable list);

/// CURLOPT_WRITEFUNCTION.
CURLcode nestlab_curl_easy_setopt_write_callback(CURL *handle,
                                                 nestlab_curl_data_callback _Nullable callback);

/// CURLOPT_HEADERFUNCTION.
CURLcode nestlab_curl_easy_setopt_header_callback(CURL *handle,
                                                  nestlab_curl_data_callback _Nullable callback);

/// CURLOPT_XFERINFOFUNCTION. Progress calls also need CURLOPT_NOPROGRESS set to 0.
CURLcode nestlab_curl_easy_setopt_xferinfo_callback(
    CURL *handle, nestlab_curl_xferinfo_callback _Nullable callback);

// MARK: curl_easy_getinfo, one function per result kind

/// CURLINFO_LONG results (e.g. CURLINFO_RESPONSE_CODE).
CURLcode nestlab_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);

/// CURLINFO_DOUBLE results (e.g. CURLINFO_TOTAL_TIME).
CURLcode nestlab_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);

/// CURLINFO_OFF_T results (e.g. CURLINFO_SIZE_DOWNLOAD_T, CURLINFO_SPEED_DOWNLOAD_T).
CURLcode nestlab_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);

/// CURLINFO_STRING results (e.g. CURLINFO_EFFECTIVE_URL). The string belongs to the
/// handle and may be NULL; copy it before the next call on the handle.
CURLcode nestlab_curl_easy_getinfo_string(CURL *handle, CURLINFO info,
                                          const char *_Nullable *_Nonnull value);

#pragma clang assume_nonnull end

#endif
