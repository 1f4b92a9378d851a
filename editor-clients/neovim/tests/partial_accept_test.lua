-- Partial accept: the plugin's accept_word key inserts part of the ghost text (accept_line is
-- the same function with another cut, checked through partial_text);
-- the server answers the request that follows from its typing-through cache, so the rest shows
-- again at once. The scripted model answers every completion with SPARK_EXPECT_COMPLETION.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')
local expected = assert(vim.env.SPARK_EXPECT_COMPLETION, 'SPARK_EXPECT_COMPLETION is not set')

H.run(function()
  local spark = require('spark_lsp')
  spark.setup({ settings = { completion = { debounceMs = 0 } } })
  H.check(spark.has_inline_completion(), 'this Neovim has vim.lsp.inline_completion')
  H.check(spark.partial_text('foo(bar)\nbaz', 'word') == 'foo', 'a word ends at punctuation')
  H.check(spark.partial_text('  * b', 'word') == '  *', 'punctuation counts as a word')
  H.check(spark.partial_text('x = 1\ny = 2', 'line') == 'x = 1\n', 'a line keeps its break')
  H.check(spark.partial_text('x = 1', 'line') == 'x = 1', 'a last line is the rest')

  local prefix = '    return '
  local buf = H.open('partial.py', { 'def mul(a, b):', prefix }, 'python')
  H.ready(H.client(buf))
  local word = vim.fn.maparg('<M-w>', 'i', false, true)
  local line = vim.fn.maparg('<M-j>', 'i', false, true)
  H.check(word.callback ~= nil and line.callback ~= nil, 'accept_word <M-w> and accept_line <M-j> are mapped')
  H.check(word.callback() == '<M-w>', 'without a suggestion <M-w> types itself')

  local ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion')
  local function ghost()
    local mark = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })[1]
    if not mark then
      return nil
    end
    local shown = {}
    for _, chunk in ipairs(mark[4].virt_text or {}) do
      table.insert(shown, chunk[1])
    end
    return table.concat(shown)
  end

  vim.o.virtualedit = 'onemore'
  vim.api.nvim_win_set_cursor(0, { 2, #prefix })
  vim.api.nvim_exec_autocmds('InsertEnter', { buffer = buf, modeline = false })
  H.wait(10000, function() return ghost() == expected end, 'ghost text ' .. expected)

  local first = spark.partial_text(expected, 'word')
  H.check(word.callback() == '', '<M-w> consumed the keypress')
  H.wait(3000, function() return H.lines(buf)[2] == prefix .. first end, 'the first word inserted')
  H.ok('accepted word: ' .. H.lines(buf)[2])
  local rest = expected:sub(#first + 1)
  vim.api.nvim_exec_autocmds('CursorMovedI', { buffer = buf, modeline = false })
  H.wait(5000, function() return ghost() == rest end, 'the rest as ghost text: ' .. rest)
  H.ok('the rest shows again: ' .. rest)

  -- The accepted word was reported as a partial accept (counts only: spark/stats).
  local client = H.client(buf)
  local total = H.wait(5000, function()
    local reply = client:request_sync('spark/stats', vim.empty_dict(), 5000, buf)
    local t = reply and reply.result and reply.result.acceptance.total
    return t and t.partiallyAccepted == 1 and t or nil
  end, 'spark/stats to count the partial accept')
  H.check(total.accepted == 0 and total.shown == 1, 'counted as partially accepted', total)
end)
