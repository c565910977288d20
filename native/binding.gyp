{
  "targets": [
    {
      "target_name": "filmatlas_native",
      "sources": ["jpeg_still.c"],
      "libraries": ["-ljpeg"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
