/* fuzz_typed_lua.c - libFuzzer target: any source text, erased, keeps its
 * length and every line break, and is changed only to spaces; never a crash
 * or an overread (an entry's file may be hostile). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/typed_lua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *source = malloc(size + 1);
    if (source == NULL)
        return 0;
    memcpy(source, data, size);
    struct wippy_error error;
    typed_lua_erase(source, size, &error);
    for (size_t i = 0; i < size; i++)
        if (source[i] != (char)data[i] && (source[i] != ' ' || data[i] == '\n' || data[i] == '\r'))
            abort();
    free(source);
    return 0;
}
