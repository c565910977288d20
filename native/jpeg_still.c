/*
 * filmatlas_native: a JPEG straight to the pixels of a still, in one call.
 *
 * decodeJpeg(input, width, height, failOn) → Promise<{ data, width, height } | null>
 *
 * Decodes an 8-bit baseline or progressive JPEG (YCbCr, RGB or greyscale) with
 * libjpeg-turbo, letting the decoder shrink by 2, 4 or 8 in the DCT domain while both
 * sides stay at least twice `width`×`height` (libvips's shrink-on-load), then
 * resamples to exactly `width`×`height` with a Catmull-Rom cubic whose support widens
 * with the reduction (PIL's `resize` convolution), and returns packed RGB. The work runs
 * on libuv's thread pool; nothing else is touched.
 *
 * Resolves null for a JPEG this path does not take (CMYK/YCCK, 12-bit): the caller
 * decodes those with sharp. Rejects with libjpeg's own message for a damaged file:
 * `failOn` 3 ('warning') fails on any libjpeg warning (corrupt entropy data, premature
 * end), 1–2 ('truncated', 'error') only on a premature end, 0 ('none') on nothing that
 * libjpeg can read past.
 *
 * Why it exists: at 224×126 the libvips pipeline's fixed cost (operation objects,
 * threads, hand-offs: ~0.8 ms a call measured on a 16×16 image) is most of the work;
 * this path decodes a 500×213 still in ~0.4 ms.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#define FAIL_ON_NONE 0
#define FAIL_ON_TRUNCATED 1
#define FAIL_ON_WARNING 3

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  int fail_on;
  char message[JMSG_LENGTH_MAX];
} error_manager;

enum { JOB_OK = 0, JOB_FAILED = 1, JOB_NOT_TAKEN = 2 };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref;
  const uint8_t *input;
  size_t input_length;
  int width, height, fail_on;
  int decoded_width, decoded_height;
  uint8_t *decoded; /* the DCT-scaled image, freed in execute */
  uint8_t *pixels;  /* width×height×3, handed to JavaScript in complete */
  int status;
  char message[JMSG_LENGTH_MAX + 64];
} job;

static void on_error_exit(j_common_ptr cinfo) {
  error_manager *err = (error_manager *)cinfo->err;
  cinfo->err->format_message(cinfo, err->message);
  longjmp(err->jump, 1);
}

/* Warnings (msg_level < 0) are fatal as failOn says; trace messages are ignored. */
static void on_emit_message(j_common_ptr cinfo, int msg_level) {
  error_manager *err = (error_manager *)cinfo->err;
  if (msg_level >= 0) return;
  int fatal = err->fail_on >= FAIL_ON_WARNING ||
              (err->fail_on >= FAIL_ON_TRUNCATED && cinfo->err->msg_code == JWRN_JPEG_EOF);
  if (fatal) {
    cinfo->err->format_message(cinfo, err->message);
    longjmp(err->jump, 1);
  }
  cinfo->err->num_warnings++;
}

/* Catmull-Rom (a = -0.5), the cubic of PIL's BICUBIC and of sharp's 'cubic' kernel. */
static double cubic(double x) {
  const double a = -0.5;
  x = fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/*
 * Weights of a 1-D resampling from `in` to `out` samples, PIL's way: output sample i is
 * centred on (i + 0.5)·scale in the input and takes the inputs within 2·max(scale, 1) of
 * it, weighted by the cubic stretched by max(scale, 1) and normalised to sum to 1.
 * Returns the stride of `weights` per output sample; sample i takes count[i] inputs from
 * first[i] on.
 */
static int axis_weights(int in, int out, int **first_out, int **count_out, float **weights_out) {
  double scale = (double)in / out;
  double stretch = scale > 1.0 ? scale : 1.0;
  double support = 2.0 * stretch;
  int taps = (int)ceil(support) * 2 + 1;
  int *first = malloc(sizeof(int) * out);
  int *count = malloc(sizeof(int) * out);
  float *weights = calloc((size_t)out * taps, sizeof(float));
  if (!first || !count || !weights) {
    free(first);
    free(count);
    free(weights);
    return -1;
  }
  for (int i = 0; i < out; i++) {
    double centre = (i + 0.5) * scale;
    int lo = (int)(centre - support + 0.5);
    int hi = (int)(centre + support + 0.5);
    if (lo < 0) lo = 0;
    if (hi > in) hi = in;
    if (hi - lo > taps) hi = lo + taps;
    double sum = 0.0;
    float *w = weights + (size_t)i * taps;
    for (int k = lo; k < hi; k++) sum += (w[k - lo] = (float)cubic((k - centre + 0.5) / stretch));
    if (sum != 0.0)
      for (int k = 0; k < hi - lo; k++) w[k] = (float)(w[k] / sum);
    first[i] = lo;
    count[i] = hi - lo;
  }
  *first_out = first;
  *count_out = count;
  *weights_out = weights;
  return taps;
}

static inline uint8_t clamp_round(float v) {
  if (v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return (uint8_t)(v + 0.5f);
}

/* Separable resample of packed RGB: horizontally into floats, then vertically into bytes. */
static int resample(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh) {
  int *xfirst = NULL, *yfirst = NULL, *xcount = NULL, *ycount = NULL;
  float *xw = NULL, *yw = NULL, *rows = NULL;
  int ok = 0;
  int xtaps = axis_weights(sw, dw, &xfirst, &xcount, &xw);
  int ytaps = axis_weights(sh, dh, &yfirst, &ycount, &yw);
  rows = malloc(sizeof(float) * (size_t)sh * dw * 3);
  if (xtaps < 0 || ytaps < 0 || !rows) goto done;
  for (int y = 0; y < sh; y++) {
    const uint8_t *in = src + (size_t)y * sw * 3;
    float *out = rows + (size_t)y * dw * 3;
    for (int x = 0; x < dw; x++) {
      const float *w = xw + (size_t)x * xtaps;
      const uint8_t *p = in + (size_t)xfirst[x] * 3;
      int n = xcount[x];
      float r = 0, g = 0, b = 0;
      for (int k = 0; k < n; k++, p += 3) {
        r += w[k] * p[0];
        g += w[k] * p[1];
        b += w[k] * p[2];
      }
      out[x * 3] = r;
      out[x * 3 + 1] = g;
      out[x * 3 + 2] = b;
    }
  }
  for (int y = 0; y < dh; y++) {
    const float *w = yw + (size_t)y * ytaps;
    int n = ycount[y];
    uint8_t *out = dst + (size_t)y * dw * 3;
    for (int x = 0; x < dw * 3; x++) {
      const float *col = rows + (size_t)yfirst[y] * dw * 3 + x;
      float v = 0;
      for (int k = 0; k < n; k++, col += (size_t)dw * 3) v += w[k] * *col;
      out[x] = clamp_round(v);
    }
  }
  ok = 1;
done:
  free(xfirst);
  free(yfirst);
  free(xcount);
  free(ycount);
  free(xw);
  free(yw);
  free(rows);
  return ok;
}

static void decode(job *j) {
  struct jpeg_decompress_struct cinfo;
  error_manager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error_exit;
  err.pub.emit_message = on_emit_message;
  err.fail_on = j->fail_on;
  jpeg_create_decompress(&cinfo);
  if (setjmp(err.jump)) {
    snprintf(j->message, sizeof j->message, "libjpeg: %s", err.message);
    j->status = JOB_FAILED;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  jpeg_mem_src(&cinfo, j->input, (unsigned long)j->input_length);
  jpeg_read_header(&cinfo, TRUE);
  int colour_ok = cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB ||
                  cinfo.jpeg_color_space == JCS_GRAYSCALE;
  if (!colour_ok || cinfo.data_precision != 8) {
    j->status = JOB_NOT_TAKEN;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  cinfo.out_color_space = JCS_RGB;
  /*
   * Shrink-on-load: the largest power-of-two reduction that keeps both sides at least
   * twice the target, so the cubic still does a real reduction after the DCT's (which is
   * close to a box filter) and the result stays close to a full-size resample.
   */
  unsigned int denom = 8;
  while (denom > 1 && ((cinfo.image_width + denom - 1) / denom < 2 * (unsigned)j->width ||
                       (cinfo.image_height + denom - 1) / denom < 2 * (unsigned)j->height))
    denom /= 2;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  jpeg_start_decompress(&cinfo);
  int sw = (int)cinfo.output_width, sh = (int)cinfo.output_height;
  j->decoded = malloc((size_t)sw * sh * 3);
  if (!j->decoded) {
    snprintf(j->message, sizeof j->message, "out of memory decoding %d×%d", sw, sh);
    j->status = JOB_FAILED;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[16];
    int n = (int)(cinfo.output_height - cinfo.output_scanline);
    if (n > 16) n = 16;
    for (int k = 0; k < n; k++) rows[k] = j->decoded + (size_t)(cinfo.output_scanline + k) * sw * 3;
    jpeg_read_scanlines(&cinfo, rows, (JDIMENSION)n);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  j->decoded_width = sw;
  j->decoded_height = sh;
  j->status = JOB_OK;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job *j = data;
  decode(j);
  if (j->status == JOB_OK) {
    j->pixels = malloc((size_t)j->width * j->height * 3);
    if (!j->pixels || !resample(j->decoded, j->decoded_width, j->decoded_height, j->pixels, j->width, j->height)) {
      snprintf(j->message, sizeof j->message, "out of memory resizing to %d×%d", j->width, j->height);
      j->status = JOB_FAILED;
    }
  }
  free(j->decoded);
  j->decoded = NULL;
}

static void set_int(napi_env env, napi_value obj, const char *name, int value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

static void complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  napi_value result;
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "decodeJpeg was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else if (j->status == JOB_OK) {
    napi_value buffer;
    void *copy;
    napi_create_buffer_copy(env, (size_t)j->width * j->height * 3, j->pixels, &copy, &buffer);
    napi_create_object(env, &result);
    napi_set_named_property(env, result, "data", buffer);
    set_int(env, result, "width", j->width);
    set_int(env, result, "height", j->height);
    napi_resolve_deferred(env, j->deferred, result);
  } else if (j->status == JOB_NOT_TAKEN) {
    napi_get_null(env, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, j->message, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  }
  free(j->pixels);
  napi_delete_reference(env, j->input_ref);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* decodeJpeg(input: Uint8Array, width: number, height: number, failOn: 0..3): Promise<…> */
static napi_value decode_jpeg(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_type_error(env, "decodeJpeg(input, width, height, failOn)");
  bool is_typed;
  napi_is_typedarray(env, argv[0], &is_typed);
  if (!is_typed) return throw_type_error(env, "decodeJpeg: input must be a Uint8Array");
  napi_typedarray_type type;
  size_t length, offset;
  void *bytes;
  napi_value arraybuffer;
  napi_get_typedarray_info(env, argv[0], &type, &length, &bytes, &arraybuffer, &offset);
  if (type != napi_uint8_array) return throw_type_error(env, "decodeJpeg: input must be a Uint8Array");
  int32_t width, height, fail_on;
  if (napi_get_value_int32(env, argv[1], &width) != napi_ok || napi_get_value_int32(env, argv[2], &height) != napi_ok ||
      napi_get_value_int32(env, argv[3], &fail_on) != napi_ok)
    return throw_type_error(env, "decodeJpeg: width, height and failOn must be integers");
  if (width < 1 || height < 1 || width > 65535 || height > 65535 || fail_on < FAIL_ON_NONE || fail_on > FAIL_ON_WARNING)
    return throw_type_error(env, "decodeJpeg: width and height must be 1–65535 and failOn 0–3");

  job *j = calloc(1, sizeof(job));
  if (!j) return throw_type_error(env, "decodeJpeg: out of memory");
  j->input = bytes;
  j->input_length = length;
  j->width = width;
  j->height = height;
  j->fail_on = fail_on;
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_reference(env, argv[0], 1, &j->input_ref); /* keeps the bytes alive while the pool reads them */
  napi_create_string_utf8(env, "filmatlas.decodeJpeg", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "decodeJpeg", NAPI_AUTO_LENGTH, decode_jpeg, NULL, &fn);
  napi_set_named_property(env, exports, "decodeJpeg", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
