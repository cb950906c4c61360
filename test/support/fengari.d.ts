// The part of fengari (a Lua VM in JavaScript) the Argo CD health-check test uses.
declare module 'fengari' {
  export type LuaState = { readonly __luaState: unique symbol };
  export const lua: {
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_tojsstring(L: LuaState, index: number): string;
    LUA_OK: number;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, source: Uint8Array): number;
  };
  export const lualib: { luaL_openlibs(L: LuaState): void };
  export function to_luastring(s: string): Uint8Array;
}
