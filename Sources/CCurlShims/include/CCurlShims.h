int nestlab_curl_placeholder(void);
