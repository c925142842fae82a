/* mod_channel.c - the channel module: channel.new and channel.select (the
 * channel type itself is the VM's, vm/channel.c). */
#include "lua/modules.h"

#include <lauxlib.h>

#include "vm/channel.h"

int mod_channel_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"new", channel_new_function},
        {"select", channel_select_function},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
