#include "CCurlShims.h"
int nestlab_curl_placeholder(void) { return 0; }
