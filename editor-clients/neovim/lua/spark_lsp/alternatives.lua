--- Alternatives: the next/previous keys cycle through several suggestions.
---
--- spark-lsp answers an explicit request (triggerKind Invoked) with up to
--- spark.completion.alternatives different suggestions, and a request made while typing with
--- one. Neovim 0.12's ghost text only ever asks automatically and offers no way to ask
--- explicitly, so this module remembers, per buffer, how Neovim's own request was answered
--- (the handler it passed and how many items came back). The first next/previous key on a
--- single suggestion asks again, explicitly, through the same client and hands the answer to
--- that handler, so Neovim shows, cycles and accepts the alternatives itself; later presses
--- just move (vim.lsp.inline_completion.select).

local M = {}

local METHOD = 'textDocument/inlineCompletion'
local INVOKED = 1

---@class spark_lsp.InlineState
---@field handler function Neovim's handler of its last inline-completion request
---@field params table that request's params
---@field count integer items in the answer now shown
---@field explicit boolean the answer shown is an explicit request's

--- Per buffer: the last inline-completion exchange.
---@type table<integer, spark_lsp.InlineState>
M.state = {}

local function items_of(result)
  if type(result) ~= 'table' then
    return {}
  end
  return result.items or result
end

--- Wrap `client.request` (once) to note each inline-completion exchange of every buffer.
---@param client vim.lsp.Client
function M.watch(client)
  if client._spark_watched then
    return
  end
  client._spark_watched = true
  local request = client.request
  client.request = function(self, method, params, handler, bufnr)
    if method ~= METHOD or type(handler) ~= 'function' or type(params) ~= 'table' then
      return request(self, method, params, handler, bufnr)
    end
    local buf = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
    local explicit = params.context and params.context.triggerKind == INVOKED or false
    local state = { handler = handler, params = params, count = 0, explicit = explicit }
    M.state[buf] = state
    return request(self, method, params, function(err, result, ctx)
      state.count = #items_of(result)
      handler(err, result, ctx)
    end, bufnr)
  end
end

--- Move `count` suggestions on (negative: back). With a single suggestion from a request
--- made while typing, ask explicitly first (the answer replaces it, then the move happens).
---@param client vim.lsp.Client
---@param bufnr integer
---@param count integer
function M.move(client, bufnr, count)
  local inline = vim.lsp.inline_completion
  local state = M.state[bufnr]
  if not state or state.explicit or state.count > 1 then
    inline.select({ bufnr = bufnr, count = count })
    return
  end
  local params = vim.deepcopy(state.params)
  params.context = { triggerKind = INVOKED }
  params.position = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local show = state.handler -- Neovim's; this request is noted (as explicit) in its turn
  client:request(METHOD, params, function(err, result, ctx)
    if vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
      return -- typed on meanwhile: these fit the old text only
    end
    show(err, result, ctx)
    if #items_of(result) > 1 then
      inline.select({ bufnr = bufnr, count = count })
    end
  end, bufnr)
end

return M
