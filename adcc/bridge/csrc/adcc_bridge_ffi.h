/* adcc bridge: XLA FFI handlers over the bridge ABI (see adcc/bridge/codegen.py). Included by
 * the generated shim of each library. A call frame carries results then operands, and two i64
 * array attributes: `dims` (the dimension values) and `ranks` (each buffer's declared rank; the
 * extra leading axes of the first buffer are the batch that vmap added). */
#ifndef ADCC_BRIDGE_FFI_H
#define ADCC_BRIDGE_FFI_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "xla/ffi/api/c_api.h"

typedef int (*adcc_ffi_entry)(void *const *, const int64_t *, int64_t);

static XLA_FFI_Error *adcc_ffi_error(const XLA_FFI_Api *api, XLA_FFI_Error_Code code, const char *message) {
  XLA_FFI_Error_Create_Args args;
  memset(&args, 0, sizeof args);
  args.struct_size = XLA_FFI_Error_Create_Args_STRUCT_SIZE;
  args.message = message;
  args.errc = code;
  return api->XLA_FFI_Error_Create(&args);
}

static const XLA_FFI_Array *adcc_ffi_array(const XLA_FFI_CallFrame *frame, const char *name) {
  size_t len = strlen(name);
  for (int64_t i = 0; i < frame->attrs.size; i++) {
    const XLA_FFI_ByteSpan *n = frame->attrs.names[i];
    if (frame->attrs.types[i] == XLA_FFI_AttrType_ARRAY && n->len == len && !memcmp(n->ptr, name, len)) {
      const XLA_FFI_Array *a = (const XLA_FFI_Array *)frame->attrs.attrs[i];
      return a->dtype == XLA_FFI_DataType_S64 ? a : 0;
    }
  }
  return 0;
}

static XLA_FFI_Error *adcc_ffi_dispatch(XLA_FFI_CallFrame *frame, adcc_ffi_entry entry, const char *what) {
  if (frame->extension_start && frame->extension_start->type == XLA_FFI_Extension_Metadata) {
    XLA_FFI_Metadata *metadata = ((XLA_FFI_Metadata_Extension *)frame->extension_start)->metadata;
    metadata->api_version.struct_size = XLA_FFI_Api_Version_STRUCT_SIZE;
    metadata->api_version.extension_start = 0;
    metadata->api_version.major_version = XLA_FFI_API_MAJOR;
    metadata->api_version.minor_version = XLA_FFI_API_MINOR;
    metadata->traits = 0;
    return 0;
  }
  const XLA_FFI_Array *dims = adcc_ffi_array(frame, "dims");
  const XLA_FFI_Array *ranks = adcc_ffi_array(frame, "ranks");
  int64_t count = frame->rets.size + frame->args.size;
  if (!dims || !ranks || (int64_t)ranks->size != count || count == 0 || count > 256)
    return adcc_ffi_error(frame->api, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                          "adcc bridge: malformed call (attributes dims/ranks)");
  void *buffers[256];
  for (int64_t i = 0; i < frame->rets.size; i++) buffers[i] = ((XLA_FFI_Buffer *)frame->rets.rets[i])->data;
  for (int64_t i = 0; i < frame->args.size; i++)
    buffers[frame->rets.size + i] = ((XLA_FFI_Buffer *)frame->args.args[i])->data;
  const XLA_FFI_Buffer *first =
      (const XLA_FFI_Buffer *)(frame->rets.size ? frame->rets.rets[0] : frame->args.args[0]);
  int64_t batch = 1;
  for (int64_t k = 0; k < first->rank - ((const int64_t *)ranks->data)[0]; k++) batch *= first->dims[k];
  int rc = entry(buffers, (const int64_t *)dims->data, batch);
  if (rc == 0) return 0;
  char message[256];
  if (rc < 0)
    snprintf(message, sizeof message, "adcc kernel %s: out of memory for scratch buffers", what);
  else
    snprintf(message, sizeof message, "adcc kernel %s crashed with signal %d (%s); the call was abandoned",
             what, rc, strsignal(rc));
  return adcc_ffi_error(frame->api, rc < 0 ? XLA_FFI_Error_Code_RESOURCE_EXHAUSTED : XLA_FFI_Error_Code_INTERNAL,
                        message);
}
#endif
