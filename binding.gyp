{
  "targets": [
    {
      "target_name": "bramble_native",
      "sources": ["native/src/bramble.cc"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] }
    },
    {
      "target_name": "action_after_build",
      "type": "none",
      "dependencies": ["bramble_native"],
      "copies": [
        {
          "files": ["<(PRODUCT_DIR)/bramble_native.node"],
          "destination": "<(module_path)"
        }
      ]
    }
  ]
}
