// Umbrella header for libcurl (libcurl4-openssl-dev). Only the Curl Swift
// module imports this.
#include <curl/curl.h>
