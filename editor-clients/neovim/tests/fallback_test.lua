-- Without ghost text (Neovim 0.11, or inline_completion = false): the client does not announce
-- inline completion, so the server puts the suggestion into textDocument/completion, and
-- vim.lsp.completion plus the menu keymaps are set up instead.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')
local expected = assert(vim.env.SPARK_EXPECT_COMPLETION, 'SPARK_EXPECT_COMPLETION is not set')

H.run(function()
  local spark = require('spark_lsp')
  spark.setup({ inline_completion = false, settings = { completion = { debounceMs = 0 } } })
  local prefix = '    return '
  local buf = H.open('ops.py', { 'def add(a, b):', '    return a + b', '', '',
    'def mul(a, b):', prefix }, 'python')
  local client = H.client(buf)
  H.ready(client)
  H.check(not vim.lsp.inline_completion.is_enabled({ bufnr = buf }),
    'inline completion stays off for the buffer')
  local autocmds = vim.api.nvim_get_autocmds({
    group = 'nvim.lsp.completion_' .. buf, event = 'InsertCharPre', buffer = buf })
  H.check(#autocmds == 1, 'vim.lsp.completion is enabled with autotrigger')
  local accept = vim.fn.maparg('<M-l>', 'i', false, true)
  H.check(accept.buffer == 1 and accept.desc:find('completion menu', 1, true) ~= nil,
    '<M-l> asks for a suggestion in the completion menu', accept.desc)

  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = 5, character = #prefix },
    context = { triggerKind = 1 },
  }
  local reply = client:request_sync('textDocument/completion', params, 10000, buf)
  H.check(reply and not reply.err, 'textDocument/completion answers', reply)
  local items = reply.result.items or reply.result
  local item = items[1] or {}
  local text = item.textEdit and item.textEdit.newText or item.insertText
  H.check(#items == 1 and text == expected, 'the suggestion is a completion item',
    { items = items })
end)
