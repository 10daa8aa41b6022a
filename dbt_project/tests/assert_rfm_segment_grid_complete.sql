-- Every (R, F) cell of the 5 x 5 grid maps to exactly one segment: returns missing or doubled cells.
with grid as (
    select r.r_score, f.f_score
    from (select {{ each_integer(1, 5) }} as r_score) as r
    cross join (select {{ each_integer(1, 5) }} as f_score) as f
),

mapped as (
    select r_score, f_score, count(*) as segments
    from {{ ref('rfm_segments') }}
    group by r_score, f_score
)

select grid.r_score, grid.f_score, coalesce(mapped.segments, 0) as segments
from grid
left join mapped using (r_score, f_score)
where coalesce(mapped.segments, 0) <> 1
